//! map-items (examples/workloads: an inline Map, MaxConcurrency 0, Pass +
//! Choice + Pass per item) through a release `switchyard serve`, driven
//! through the Step Functions API as a user would; the figures issue 11 asks
//! of a large Map.
//!
//! Mode `dynamodb`: serve on DynamoDB Local (a fresh table), one execution.
//! While it runs, serve's resident memory is sampled from /proc every 250 ms
//! (VmRSS; VmHWM is the peak), DescribeExecution is called every 100 ms and
//! ListStateMachines every 500 ms, their latencies recorded. At the end (or at
//! the deadline): the output checked exactly (item k = `{"v": 2k, "big": 2k >
//! 100}`), serve's log lines with "gave up" and "failed" counted, and serve's
//! store counters read from `GET /_switchyard/metrics`: every write it made
//! (transitions, outcomes, counters, payloads), and the partition key with
//! the most writes in one second. In the same run, on the same DynamoDB
//! Local, the bare conditional PutItem rate (`attribute_not_exists`) to a
//! scratch table, half before the Map and half after; the Map's write rate is
//! reported as a fraction of it.
//!
//! Mode `memory`: the same execution on serve's in-memory store, against
//! `switchyard run` on the same workload (the execution's own start-to-stop
//! time of each, and run's process time).
//!
//! ```sh
//! cargo build --release -p switchyard
//! MAP_ITEMS=1000 MAP_DEADLINE_SECS=120 cargo bench -p switchyard-tests --bench serve_map
//! ```
//!
//! Options through the environment:
//! - `MAP_ITEMS` (10000): the items of the Map (the workload's first ones; more are made alike).
//! - `MAP_DEADLINE_SECS` (600): how long one execution may run before it is
//!   reported unfinished (for each mode, and for `switchyard run`).
//! - `MAP_MODES` (`dynamodb,memory`): which modes to run.
//! - `BARE_PUTS` (10000): bare PutItem requests in all; `BARE_CONCURRENCY`
//!   (40: AWS's bound on an inline Map's iterations in flight, the fan-out
//!   issue 11 gives serve); `BARE_ITEM_BYTES` (700: about a step item).
//! - `SWITCHYARD_BIN`: the `switchyard` binary (default: the release build
//!   beside this bench's binary).
//! - `SWITCHYARD_BENCH_DYNAMODB_ENDPOINT`: a DynamoDB Local to use; by default
//!   a dedicated instance (`SWITCHYARD_DYNAMODB_INSTANCE=bench
//!   scripts/dynamodb-local.sh`), started when none runs and then stopped at the end.
//!
//! Serve's stderr is kept in `serve-<mode>.log` under the target directory's
//! `tmp/serve_map/` (the path is printed).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::DisplayErrorContext;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use switchyard_tests::bench::{Budget, Shape, bare_puts, env_usize, percentile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ROLE: &str = "arn:aws:iam::123456789012:role/switchyard-bench";
/// A DescribeExecution or ListStateMachines call slower than this counts as timed out.
const SLOW: Duration = Duration::from_secs(2);
/// A call is abandoned (and recorded at this latency) after this long.
const ABANDON: Duration = Duration::from_secs(10);

/// What the run is asked to do.
struct Options {
    items: usize,
    deadline: Duration,
    dynamodb: bool,
    memory: bool,
    bare_puts: u64,
    bare_concurrency: usize,
    bare_bytes: usize,
}

fn options() -> anyhow::Result<Options> {
    let modes = std::env::var("MAP_MODES").unwrap_or_else(|_| "dynamodb,memory".to_string());
    let modes: Vec<&str> = modes.split(',').map(str::trim).filter(|m| !m.is_empty()).collect();
    if let Some(bad) = modes.iter().find(|m| !["dynamodb", "memory"].contains(m)) {
        bail!("MAP_MODES: unknown mode {bad} (known: dynamodb, memory)");
    }
    Ok(Options {
        items: env_usize("MAP_ITEMS", 10_000),
        deadline: Duration::from_secs(env_usize("MAP_DEADLINE_SECS", 600) as u64),
        dynamodb: modes.contains(&"dynamodb"),
        memory: modes.contains(&"memory"),
        bare_puts: env_usize("BARE_PUTS", 10_000) as u64,
        bare_concurrency: env_usize("BARE_CONCURRENCY", 40),
        bare_bytes: env_usize("BARE_ITEM_BYTES", 700),
    })
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workload's definition text, its input cut (or extended alike) to `n`
/// items, and the output it must give.
fn workload(n: usize) -> anyhow::Result<(String, Value, Value)> {
    let dir = workspace().join("examples/workloads");
    let definition = std::fs::read_to_string(dir.join("map-items.asl.json")).context("map-items.asl.json")?;
    let input: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("map-items.input.json"))?)?;
    let mut items = input["items"].as_array().cloned().ok_or_else(|| anyhow!("map-items input has no items"))?;
    items.truncate(n);
    for k in items.len()..n {
        items.push(json!({"v": k}));
    }
    let expected = (0..n as u64).map(|k| json!({"v": 2 * k, "big": 2 * k > 100})).collect();
    Ok((definition, json!({ "items": items }), Value::Array(expected)))
}

/// The `switchyard` binary: `SWITCHYARD_BIN`, or the release build in this bench's target directory.
fn switchyard_bin() -> anyhow::Result<PathBuf> {
    if let Ok(bin) = std::env::var("SWITCHYARD_BIN") {
        return Ok(PathBuf::from(bin));
    }
    // This binary is <target>/release/deps/serve_map-<hash>.
    let exe = std::env::current_exe()?;
    let release = exe.parent().and_then(Path::parent).ok_or_else(|| anyhow!("no target directory above {exe:?}"))?;
    let bin = release.join("switchyard");
    if !bin.exists() {
        bail!(
            "no release build at {}: run `cargo build --release -p switchyard` first, or set SWITCHYARD_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// Where serve's logs and run's input go.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_map");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A DynamoDB Local for the bench, and whether this run started it (and so stops it).
struct DynamoLocal {
    endpoint: String,
    started_here: bool,
}

impl DynamoLocal {
    fn get() -> anyhow::Result<DynamoLocal> {
        if let Ok(endpoint) = std::env::var("SWITCHYARD_BENCH_DYNAMODB_ENDPOINT") {
            return Ok(DynamoLocal { endpoint, started_here: false });
        }
        if let Some(endpoint) = Self::script("endpoint")? {
            return Ok(DynamoLocal { endpoint, started_here: false });
        }
        eprintln!("serve_map: starting a dedicated DynamoDB Local (SWITCHYARD_DYNAMODB_INSTANCE=bench)");
        let endpoint = Self::script("start")?.ok_or_else(|| anyhow!("scripts/dynamodb-local.sh start failed"))?;
        Ok(DynamoLocal { endpoint, started_here: true })
    }

    /// Runs scripts/dynamodb-local.sh on the `bench` instance; its last stdout line when it succeeds.
    fn script(command: &str) -> anyhow::Result<Option<String>> {
        let out = Command::new("bash")
            .arg(workspace().join("scripts/dynamodb-local.sh"))
            .arg(command)
            .env("SWITCHYARD_DYNAMODB_INSTANCE", "bench")
            .stderr(if command == "start" { Stdio::inherit() } else { Stdio::null() })
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(out.status.success().then(|| text.lines().last().unwrap_or("").trim().to_string()).filter(|l| !l.is_empty()))
    }
}

impl Drop for DynamoLocal {
    fn drop(&mut self) {
        if self.started_here {
            let _ = Self::script("stop");
        }
    }
}

/// A running `switchyard serve`, killed on drop; its stderr is counted and kept in a file.
struct Serve {
    child: Child,
    url: String,
    gave_up: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    log: PathBuf,
}

impl Serve {
    fn start(bin: &Path, extra: &[&str], log: PathBuf) -> anyhow::Result<Serve> {
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let (gave_up, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
        let mut file = std::fs::File::create(&log).with_context(|| format!("cannot write {}", log.display()))?;
        let (g, f) = (gave_up.clone(), failed.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("gave up") {
                    g.fetch_add(1, Ordering::Relaxed);
                }
                // A failure event (a delivery or a pass that failed), not a counter such as `failed=0`.
                if line.contains("failed") && !line.contains("failed=0") {
                    f.fetch_add(1, Ordering::Relaxed);
                }
                let _ = writeln!(file, "{line}");
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("switchyard serve: listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("serve did not start (first line {line:?}); see {}", log.display());
        };
        let url = url.to_string();
        std::thread::spawn(move || for _ in stdout.lines() {});
        Ok(Serve { child, url, gave_up, failed, log })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmRSS and VmHWM of a process, in kB.
fn memory_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Latencies of one kind of API call.
#[derive(Default)]
struct Latencies {
    samples: Vec<Duration>,
    /// Calls slower than [`SLOW`] (abandoned ones included).
    slow: u64,
    /// Calls given up after [`ABANDON`].
    abandoned: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Latencies {
    fn record(&mut self, took: Duration, error: Option<String>) {
        self.samples.push(took);
        if took > SLOW {
            self.slow += 1;
        }
        if let Some(e) = error {
            self.errors += 1;
            self.first_error.get_or_insert(e);
        }
    }

    fn abandon(&mut self) {
        self.abandoned += 1;
        self.record(ABANDON, None);
    }

    fn p99(&self) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        percentile(&sorted, 0.99)
    }

    fn line(&self) -> String {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut text = format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} calls, {} over {} s, {} abandoned at {} s, {} errors)",
            ms(percentile(&sorted, 0.5)),
            ms(percentile(&sorted, 0.99)),
            ms(sorted.last().copied().unwrap_or_default()),
            sorted.len(),
            self.slow,
            SLOW.as_secs(),
            self.abandoned,
            ABANDON.as_secs(),
            self.errors
        );
        if let Some(e) = &self.first_error {
            text.push_str(&format!("; first error: {e}"));
        }
        text
    }
}

/// Serve's store counters (`GET /_switchyard/metrics`).
async fn store_metrics(url: &str) -> anyhow::Result<Value> {
    let host = url.strip_prefix("http://").ok_or_else(|| anyhow!("not an http URL: {url}"))?;
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        let request = format!("GET /_switchyard/metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(ABANDON, fetch).await.context("GET /_switchyard/metrics timed out")??;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| anyhow!("no HTTP answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET /_switchyard/metrics: {}", head.lines().next().unwrap_or(""));
    }
    Ok(serde_json::from_str(body)?)
}

fn count(metrics: &Value, name: &str) -> u64 {
    metrics[name].as_u64().unwrap_or(0)
}

fn sfn_client(url: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new("test", "test", None, None, "bench"))
        .endpoint_url(url)
        // One call, one latency: no retries behind the figures.
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// What one execution through serve did.
struct MapRun {
    /// The execution's status when the run ended (RUNNING when the deadline passed).
    status: String,
    /// From StartExecution sent to the end seen by DescribeExecution (or to the deadline).
    wall: Duration,
    /// The execution's own start-to-stop time (startDate to stopDate), when it ended.
    execution: Option<Duration>,
    /// "exact", or what is wrong with the output.
    output: String,
    rss_start_kb: u64,
    rss_peak_kb: u64,
    hwm_kb: u64,
    describe: Latencies,
    list: Latencies,
    gave_up: u64,
    failed: u64,
    /// Store counters before StartExecution and at the end (DynamoDB only).
    metrics: Option<(Value, Value)>,
}

impl MapRun {
    fn finished(&self) -> bool {
        self.status != "RUNNING"
    }

    /// The execution's time when it ended, else the wall time to the deadline.
    fn duration(&self) -> Duration {
        self.execution.unwrap_or(self.wall)
    }
}

/// The first difference between an output and the expected one.
fn check_output(output: Option<&str>, expected: &Value) -> String {
    let Some(text) = output else { return "no output".to_string() };
    let Ok(value) = serde_json::from_str::<Value>(text) else { return "output is not JSON".to_string() };
    if &value == expected {
        return "exact".to_string();
    }
    match (value.as_array(), expected.as_array()) {
        (Some(got), Some(want)) if got.len() != want.len() => {
            format!("WRONG: {} items where {} were expected", got.len(), want.len())
        }
        (Some(got), Some(want)) => {
            let k = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
            format!("WRONG: item {k} is {} where {} was expected", got[k], want[k])
        }
        _ => format!("WRONG: not an array: {:.200}", text),
    }
}

/// Creates map-items, starts one execution and watches it to its end or the deadline.
async fn run_map(
    serve: &Serve,
    definition: &str,
    input: &Value,
    expected: &Value,
    deadline: Duration,
    label: &str,
) -> anyhow::Result<MapRun> {
    let sfn = sfn_client(&serve.url);
    let machine = sfn
        .create_state_machine()
        .name(format!("map-items-{label}"))
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .map_err(|e| anyhow!("CreateStateMachine: {}", DisplayErrorContext(e)))?
        .state_machine_arn()
        .to_string();
    let dynamodb = store_metrics(&serve.url).await?["store"] == "dynamodb";
    let before = if dynamodb { Some(store_metrics(&serve.url).await?) } else { None };
    let pid = serve.pid();
    let rss_start_kb = memory_kb(pid).map(|(rss, _)| rss).unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_start_kb));
    let memory = {
        let (stop, peak) = (stop.clone(), peak.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let mut hwm = 0;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                if let Some((rss, high)) = memory_kb(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                    hwm = high;
                }
            }
            hwm
        })
    };

    let started = Instant::now();
    let arn = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(format!("run-{label}"))
        .input(input.to_string())
        .send()
        .await
        .map_err(|e| anyhow!("StartExecution: {}", DisplayErrorContext(e)))?
        .execution_arn()
        .to_string();
    let lister = {
        let (stop, sfn) = (stop.clone(), sfn.clone());
        tokio::spawn(async move {
            let mut list = Latencies::default();
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let t = Instant::now();
                match tokio::time::timeout(ABANDON, sfn.list_state_machines().send()).await {
                    Ok(answer) => list.record(t.elapsed(), answer.err().map(|e| DisplayErrorContext(e).to_string())),
                    Err(_) => list.abandon(),
                }
            }
            list
        })
    };

    let mut describe = Latencies::default();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_progress = Instant::now();
    let (status, execution, output) = loop {
        tick.tick().await;
        let t = Instant::now();
        let answer = tokio::time::timeout(ABANDON, sfn.describe_execution().execution_arn(&arn).send()).await;
        match answer {
            Err(_) => describe.abandon(),
            Ok(Err(e)) => describe.record(t.elapsed(), Some(DisplayErrorContext(e).to_string())),
            Ok(Ok(d)) => {
                describe.record(t.elapsed(), None);
                if d.status() != &ExecutionStatus::Running {
                    let took = d.stop_date().map(|stop| {
                        Duration::from_secs_f64((stop.as_secs_f64() - d.start_date().as_secs_f64()).max(0.0))
                    });
                    break (d.status().as_str().to_string(), took, check_output(d.output(), expected));
                }
            }
        }
        if started.elapsed() > deadline {
            break ("RUNNING".to_string(), None, "none: unfinished at the deadline".to_string());
        }
        if last_progress.elapsed() > Duration::from_secs(10) {
            last_progress = Instant::now();
            let writes = match &before {
                Some(_) => store_metrics(&serve.url)
                    .await
                    .map(|m| format!(", {} writes", count(&m, "writes")))
                    .unwrap_or_else(|e| format!(", metrics: {e}")),
                None => String::new(),
            };
            eprintln!(
                "serve_map [{label}] {:>4.0} s: RSS {:.0} MB (peak {:.0}), DescribeExecution p99 {:.0} ms over {} calls, {} lines \"gave up\", {} \"failed\"{writes}",
                started.elapsed().as_secs_f64(),
                mb(memory_kb(pid).map(|(rss, _)| rss).unwrap_or(0)),
                mb(peak.load(Ordering::Relaxed)),
                describe.p99().as_secs_f64() * 1000.0,
                describe.samples.len(),
                serve.gave_up.load(Ordering::Relaxed),
                serve.failed.load(Ordering::Relaxed),
            );
        }
    };
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let list = lister.await?;
    let hwm_kb = memory.await?;
    let metrics = match before {
        Some(before) => Some((before, store_metrics(&serve.url).await?)),
        None => None,
    };
    Ok(MapRun {
        status,
        wall,
        execution,
        output,
        rss_start_kb,
        rss_peak_kb: peak.load(Ordering::Relaxed),
        hwm_kb,
        describe,
        list,
        gave_up: serve.gave_up.load(Ordering::Relaxed),
        failed: serve.failed.load(Ordering::Relaxed),
        metrics,
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// Prints what a run through serve did.
fn report(run: &MapRun, items: usize, serve: &Serve) {
    let transitions = 3 * items as u64 + 1;
    println!("  status                      {} (output: {})", run.status, run.output);
    match run.execution {
        Some(took) => println!(
            "  time                        {:.2} s start to stop ({:.2} s seen by the client); {:.0} transitions per second",
            took.as_secs_f64(),
            run.wall.as_secs_f64(),
            transitions as f64 / took.as_secs_f64()
        ),
        None => println!("  time                        unfinished after {:.0} s", run.wall.as_secs_f64()),
    }
    println!(
        "  serve's resident memory     {:.0} MB at the start, peak {:.0} MB sampled (VmHWM {:.0} MB)",
        mb(run.rss_start_kb),
        mb(run.rss_peak_kb),
        mb(run.hwm_kb)
    );
    println!("  DescribeExecution           {}", run.describe.line());
    println!("  ListStateMachines           {}", run.list.line());
    println!(
        "  serve's log                 {} lines \"gave up\", {} lines \"failed\" ({})",
        run.gave_up,
        run.failed,
        serve.log.display()
    );
}

/// The `switchyard run` of the same workload: its process time, its execution's
/// start-to-stop time, and whether its output is exact; `None` past the deadline.
fn switchyard_run(
    bin: &Path,
    definition: &Path,
    input: &Path,
    expected: &Value,
    deadline: Duration,
) -> anyhow::Result<Option<(Duration, Duration, String)>> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .arg("run")
        .arg(definition)
        .arg("--input")
        .arg(format!("@{}", input.display()))
        .arg("--quiet")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let process = started.elapsed();
    let text = reader.join().map_err(|_| anyhow!("reader panicked"))??;
    let described: Value = serde_json::from_str(&text).context("switchyard run's answer")?;
    let date = |name: &str| {
        described[name]
            .as_str()
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
    };
    let execution = match (date("startDate"), date("stopDate")) {
        (Some(start), Some(stop)) => Duration::from_secs_f64((stop - start).as_seconds_f64().max(0.0)),
        _ => process,
    };
    Ok(Some((process, execution, check_output(described["output"].as_str(), expected))))
}

async fn dynamodb_mode(options: &Options, bin: &Path, scratch: &Path) -> anyhow::Result<()> {
    let (definition, input, expected) = workload(options.items)?;
    let local = DynamoLocal::get()?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let table = format!("serve-map-{stamp}");
    println!(
        "map-items, {} items, through `switchyard serve --dynamodb-endpoint` on DynamoDB Local (table {table})",
        options.items
    );

    // The yardstick: bare conditional puts to a scratch table, half now, half after the Map.
    let client = aws_sdk_dynamodb::Client::new(&aws_adapters::local_config(&local.endpoint).await);
    let bare_table = format!("serve-map-bare-{stamp}");
    aws_adapters::DynamoStateStore::create_table(&client, &bare_table).await?;
    let (size, lanes) = (options.bare_bytes, options.bare_concurrency);
    let half = Budget::Count(options.bare_puts.div_ceil(2));
    let put = |round| {
        let (client, bare_table) = (client.clone(), bare_table.clone());
        async move { bare_puts(&client, &bare_table, size, lanes, half, Shape::Plain, round).await.map_err(|e| anyhow!(e)) }
    };
    // Warm the JVM up (its first thousands of requests are slow), then the first half.
    let warm = Budget::For(Duration::from_secs(10));
    let warm = bare_puts(&client, &bare_table, size, lanes, warm, Shape::Plain, 99).await.map_err(|e| anyhow!(e))?;
    eprintln!("serve_map: {warm:.0} bare puts per second while warming DynamoDB Local up for 10 s");
    let puts_before = put(0).await?;

    let log = scratch.join("serve-dynamodb.log");
    let serve = Serve::start(bin, &["--dynamodb-endpoint", &local.endpoint, "--table", &table], log)?;
    let run = run_map(&serve, &definition, &input, &expected, options.deadline, "dynamodb").await?;
    report(&run, options.items, &serve);
    drop(serve);
    let puts_after = put(1).await?;
    let bare = (puts_before + puts_after) / 2.0;

    let (before, after) = run.metrics.clone().ok_or_else(|| anyhow!("serve reported no DynamoDB counters"))?;
    let writes = count(&after, "writes") - count(&before, "writes");
    let reads = count(&after, "reads") - count(&before, "reads");
    let bytes = count(&after, "bytesWritten") - count(&before, "bytesWritten");
    let wcu = after["wcu"].as_f64().unwrap_or(0.0) - before["wcu"].as_f64().unwrap_or(0.0);
    let write_rate = writes as f64 / run.duration().as_secs_f64();
    let hottest = &after["hottestKeys"][0];
    let hot_peak = hottest["peakPerSecond"].as_u64().unwrap_or(0);
    println!(
        "  writes                      {writes} ({:.1} per item; {wcu:.0} WCU, {:.0} bytes per write), {reads} reads; {:.0} writes per second{}",
        writes as f64 / options.items as f64,
        bytes as f64 / writes.max(1) as f64,
        write_rate,
        if run.finished() { "" } else { " (to the deadline)" }
    );
    println!(
        "  hottest partition key       {hot_peak} writes in its busiest second ({} in all; {} keys written)",
        hottest["writes"].as_u64().unwrap_or(0),
        count(&after, "keysWritten")
    );
    println!(
        "  bare conditional PutItem    {bare:.0} per second ({puts_before:.0} before the Map, {puts_after:.0} after; {} in all, {size} bytes, {lanes} at a time)",
        options.bare_puts
    );
    println!("  Map's write rate / bare     {:.2} (every write, lost races and retries included)", write_rate / bare);
    if run.finished() {
        // The floor: one write per transition; what the writes above it cost is overhead or contention.
        let transitions = (3 * options.items + 1) as f64 / run.duration().as_secs_f64();
        println!("  transitions per second / bare {:.2}", transitions / bare);
    }
    println!("  issue 11's targets:");
    println!(
        "    completes, no delivery given up        {}",
        verdict(run.finished() && run.gave_up == 0 && run.output == "exact")
    );
    println!(
        "    peak resident memory <= 512 MB          {} ({:.0} MB)",
        verdict(run.hwm_kb <= 512 * 1024),
        mb(run.hwm_kb)
    );
    let p99 = run.describe.p99();
    println!(
        "    DescribeExecution p99 <= 200 ms         {} ({:.0} ms)",
        verdict(p99 <= Duration::from_millis(200)),
        p99.as_secs_f64() * 1000.0
    );
    println!(
        "    write rate >= 25% of bare PutItem        {} ({:.0}%)",
        verdict(run.finished() && write_rate >= 0.25 * bare),
        100.0 * write_rate / bare
    );
    println!("    no partition key > 1,000 writes/s       {} ({hot_peak})", verdict(hot_peak <= 1000));
    drop(local);
    Ok(())
}

async fn memory_mode(options: &Options, bin: &Path, scratch: &Path) -> anyhow::Result<()> {
    let (definition, input, expected) = workload(options.items)?;
    println!("map-items, {} items, through `switchyard serve` on its in-memory store", options.items);
    let serve = Serve::start(bin, &[], scratch.join("serve-memory.log"))?;
    let run = run_map(&serve, &definition, &input, &expected, options.deadline, "memory").await?;
    report(&run, options.items, &serve);
    drop(serve);

    let definition_file = workspace().join("examples/workloads/map-items.asl.json");
    let input_file = scratch.join(format!("map-items-{}.input.json", options.items));
    std::fs::write(&input_file, input.to_string())?;
    println!("the same through `switchyard run` (best of 3)");
    let mut best: Option<(Duration, Duration, String)> = None;
    for _ in 0..3 {
        match switchyard_run(bin, &definition_file, &input_file, &expected, options.deadline)? {
            None => break,
            Some(r) => {
                if best.as_ref().is_none_or(|b| r.1 < b.1) {
                    best = Some(r);
                }
            }
        }
    }
    let Some((process, execution, output)) = best else {
        println!("  unfinished after {:.0} s", options.deadline.as_secs_f64());
        return Ok(());
    };
    println!(
        "  time                        {:.3} s start to stop ({:.3} s the whole process); output: {output}",
        execution.as_secs_f64(),
        process.as_secs_f64()
    );
    let ratio = run.duration().as_secs_f64() / execution.as_secs_f64().max(0.001);
    println!(
        "  serve in memory / run       {ratio:.1}x{}",
        if run.finished() { "" } else { " at least (serve unfinished)" }
    );
    println!("  issue 11's target: within 5x of run     {}", verdict(run.finished() && ratio <= 5.0));
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let bin = switchyard_bin()?;
    let scratch = scratch_dir()?;
    let age = std::fs::metadata(&bin)?.modified()?.elapsed().unwrap_or_default();
    println!(
        "serve_map: {} ({:.0} min old), {} items, deadline {} s per execution; logs in {}",
        bin.display(),
        age.as_secs_f64() / 60.0,
        options.items,
        options.deadline.as_secs(),
        scratch.display()
    );
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    tokio.block_on(async {
        if options.dynamodb {
            dynamodb_mode(&options, &bin, &scratch).await?;
        }
        if options.memory {
            memory_mode(&options, &bin, &scratch).await?;
        }
        anyhow::Ok(())
    })
}
