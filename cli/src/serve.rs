//! `switchyard serve`: one process hosting the Step Functions API (the same
//! request handling as the api Lambda), the stepper, its timers and task
//! invokers — on the in-memory store, or on DynamoDB (`--dynamodb-endpoint`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::{Api, ApiConfig, HttpRequest, NestedInvoker};
use aws_adapters::{DynamoStateStore, Metrics};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use runtime::catalog::Catalog;
use runtime::stepper::{Carrier, Stepper};
use runtime::{Clock, Delivery, MemoryStateStore, MockConfig, MockInvoker, ParkingInvoker, StateStore};
use tokio::sync::mpsc;

/// Arguments of `switchyard serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// The loopback port to listen on (0: any free port; the first line printed says which).
    #[arg(long, default_value_t = 8083)]
    port: u16,
    /// Keep executions in DynamoDB at this endpoint (e.g. DynamoDB Local) instead of in memory.
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Invoke Lambda Task resources through this Lambda Invoke API (e.g. `cargo lambda watch`).
    #[arg(long)]
    lambda_endpoint: Option<String>,
    /// The DynamoDB table (created when missing).
    #[arg(long, default_value = "switchyard", requires = "dynamodb_endpoint")]
    table: String,
    /// The region in ARNs.
    #[arg(long, default_value = runtime::LOCAL_REGION)]
    region: String,
    /// The account in ARNs.
    #[arg(long, default_value = runtime::LOCAL_ACCOUNT)]
    account: String,
    /// A Step Functions Local MockConfigFile answering Task states (as `run --mocks` takes it):
    /// each execution uses the mocks of its state machine (by name) in `--test-case`.
    #[arg(long, alias = "mock-config", requires = "test_case")]
    mocks: Option<PathBuf>,
    /// The test case of the mock file to use.
    #[arg(long, requires = "mocks")]
    test_case: Option<String>,
    /// How often the recovery pass re-delivers what no one carries on (the first runs at start-up).
    #[arg(long, default_value_t = 60_000, hide = true)]
    recovery_interval_ms: u64,
}

/// Executions a recovery pass works on at once (the rest of the process keeps answering).
const RECOVERY_CONCURRENCY: usize = 4;
/// The first retry of a failed delivery waits about this long; each next one twice as long.
const RETRY_BASE_MS: u64 = 100;
/// The longest wait between two retries of a delivery.
const RETRY_CAP_MS: u64 = 30_000;

/// How long to wait before retry `attempt` (0-based) of a failed delivery:
/// exponential from [`RETRY_BASE_MS`], capped at [`RETRY_CAP_MS`], scaled
/// by `jitter` (in 0..1: "full jitter" between half and all of it, so
/// retries of many deliveries spread out).
fn retry_delay(attempt: u32, jitter: f64) -> Duration {
    let ceiling = RETRY_BASE_MS.saturating_mul(1u64 << attempt.min(20)).min(RETRY_CAP_MS);
    Duration::from_millis((ceiling as f64 * (0.5 + jitter.clamp(0.0, 1.0) / 2.0)) as u64)
}

/// What serve logs when `RUST_LOG` is not set: Switchyard's own crates from
/// `info` (recoveries, retries, failures — not every transition), the rest
/// (the AWS SDK, hyper) from `warn`.
const DEFAULT_LOG_FILTER: &str = "warn,switchyard=info,runtime=info,aws_adapters=info,api=info,engine=info,asl=info";

/// Retries of a delivery that are routine (logged at debug; the stepper logs
/// each failure as an error); later ones are logged as warnings.
const FEW_RETRIES: u32 = 3;

/// One readable line per `tracing` event on stderr (stdout keeps the
/// listening line), without colours; `RUST_LOG` (an `EnvFilter`) replaces
/// [`DEFAULT_LOG_FILTER`].
fn init_logging() {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            tracing_subscriber::EnvFilter::builder().parse(&directives).unwrap_or_else(|e| {
                eprintln!(
                    "switchyard serve: RUST_LOG={directives:?} is not a valid filter ({e}); using {DEFAULT_LOG_FILTER}"
                );
                tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)
            })
        }
        _ => tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER),
    };
    tracing_subscriber::fmt().compact().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false).init();
}

/// Hands deliveries to the in-process stepper loop.
#[derive(Clone)]
struct Channel(mpsc::UnboundedSender<Delivery>);

impl Carrier for Channel {
    async fn carry(&self, delivery: Delivery) -> Result<(), String> {
        self.0.send(delivery).map_err(|_| "the stepper loop has stopped".to_string())
    }
}

type Shared<S> = Arc<Api<S, Channel>>;

/// Serves until the process is stopped.
pub fn serve(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    init_logging();
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        match &args.dynamodb_endpoint {
            Some(endpoint) => {
                let config = aws_adapters::local_config(endpoint).await;
                let client = aws_adapters::store_client(&config);
                DynamoStateStore::ensure_table(&client, &args.table)
                    .await
                    .with_context(|| format!("cannot use the table {} at {endpoint}", args.table))?;
                let store = Arc::new(DynamoStateStore::new(client, &args.table));
                let metrics = store.metrics().clone();
                host(&args, store, Some(metrics)).await
            }
            None => host(&args, Arc::new(MemoryStateStore::new()), None).await,
        }
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn host<S: StateStore + Catalog>(
    args: &ServeArgs,
    store: Arc<S>,
    metrics: Option<Arc<Metrics>>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (tx, mut rx) = mpsc::unbounded_channel();
    // DynamoDB Task resources go to the same endpoint as the store.
    let router =
        crate::tasks::router(args.lambda_endpoint.as_deref(), args.dynamodb_endpoint.as_deref(), ParkingInvoker).await;
    let carrier = Channel(tx);
    let config = ApiConfig {
        region: args.region.clone(),
        account: args.account.clone(),
        callback_base_url: Some(base.clone()),
        resources: Some(api::ResourcePolicy {
            supports: aws_adapters::router::serve_supports,
            described: aws_adapters::router::SERVE_SUPPORTED,
        }),
    };
    let api: Shared<S> = Arc::new(Api::new(store.clone(), carrier.clone(), Clock::Real, config));
    // Nested executions start through the same API; mocked states answer first.
    let nested = NestedInvoker::new(api.clone(), router);
    let invoker = match (&args.mocks, &args.test_case) {
        (Some(file), Some(case)) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let mocks = MockConfig::parse_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a valid mock file: {e}", file.display()))?;
            MockInvoker::for_case(&mocks, case, nested).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
        }
        _ => MockInvoker::passthrough(nested),
    };
    let stepper = Arc::new(
        Stepper::new(store.clone(), Arc::new(invoker), carrier.clone(), Clock::Real)
            // Timers are slept in this process: no hand-over needed.
            .with_max_sleep_ms(i64::MAX / 2),
    );
    let deliveries = stepper.clone();
    tokio::spawn(async move {
        while let Some(delivery) = rx.recv().await {
            let stepper = deliveries.clone();
            tokio::spawn(async move {
                // Never given up: retried with backoff until applied. The run stays
                // marked as carried meanwhile, so a recovery pass leaves it alone.
                let _hold = stepper.hold(&delivery.execution_arn, &delivery.run);
                let mut attempt = 0u32;
                while stepper.handle(delivery.clone()).await.is_err() {
                    // The failure itself was logged by the stepper, in the delivery's span.
                    let delay = retry_delay(attempt, rand::random::<f64>());
                    let (execution, run, cause) = (&delivery.execution_arn, &delivery.run, delivery.cause());
                    let (failures, retry_in_ms) = (attempt + 1, delay.as_millis() as u64);
                    if failures > FEW_RETRIES {
                        tracing::warn!(execution = %execution, run = %run, cause = %cause, failures, retry_in_ms,
                            "delivery still failing; retrying");
                    } else {
                        tracing::debug!(execution = %execution, run = %run, cause = %cause, failures, retry_in_ms,
                            "delivery failed; retrying");
                    }
                    tokio::time::sleep(delay).await;
                    attempt = attempt.saturating_add(1);
                }
            });
        }
    });
    // Recovery: at start-up (executions a killed process left running,
    // timers included) and then every interval (whatever was lost since).
    let interval = Duration::from_millis(args.recovery_interval_ms.max(1));
    let quiet_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        // The first pass looks at everything; later ones leave alone what this process is advancing.
        let mut quiet = None;
        loop {
            // A pass logs its own start, end and the executions it carried on.
            if let Err(e) = runtime::recovery::recover_all(stepper.clone(), RECOVERY_CONCURRENCY, quiet).await {
                tracing::warn!(error = %e, "recovery pass failed; trying again at the next");
            }
            quiet = Some(quiet_ms);
            tokio::time::sleep(interval).await;
        }
    });
    let app = axum::Router::new()
        .route(METRICS_PATH, axum::routing::get(move || store_metrics(metrics.clone())))
        .fallback(handle::<S>)
        .with_state(api);
    println!("switchyard serve: listening on {base}");
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Where serve answers with its store's request counters (for the benchmarks).
const METRICS_PATH: &str = "/_switchyard/metrics";

/// The DynamoDB store's counters as JSON: requests, capacity, bytes written,
/// and the partition keys that took the most writes in one second. On the
/// in-memory store: `{"store": "memory"}`.
async fn store_metrics(metrics: Option<Arc<Metrics>>) -> Response {
    let body = match metrics {
        None => serde_json::json!({"store": "memory"}),
        Some(metrics) => {
            let m = metrics.snapshot();
            serde_json::json!({
                "store": "dynamodb",
                "reads": m.reads,
                "writes": m.writes,
                "rcu": m.rcu,
                "wcu": m.wcu,
                "bytesWritten": m.bytes_written,
                "waitedMs": m.waited.as_millis() as u64,
                "keysWritten": metrics.keys_written(),
                "hottestKeys": metrics.hottest_keys(5),
            })
        }
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn handle<S: StateStore + Catalog>(
    axum::extract::State(api): axum::extract::State<Shared<S>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let request = HttpRequest { method: method.as_str(), path: uri.path(), query: uri.query(), target, body: &body };
    let answer = api::route(&api, request).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, answer.content_type)], answer.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let no_jitter: Vec<u64> = (0..12).map(|a| retry_delay(a, 1.0).as_millis() as u64).collect();
        assert_eq!(no_jitter, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
        assert_eq!(retry_delay(3, 0.0), Duration::from_millis(400));
        assert_eq!(retry_delay(u32::MAX, 0.5), Duration::from_millis(22_500));
    }
}
