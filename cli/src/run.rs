//! `switchyard run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use engine::RunStatus;
use runtime::render::{self, Timestamps};
use runtime::{
    Clock, LocalRuntime, MemoryStateStore, MockConfig, MockInvoker, NoInvoker, OsEntropy, StateStore, TaskInvoker,
};

use crate::input::{load_definition, machine_name, parse_input};
use crate::progress::Progress;

/// Arguments of `switchyard run`.
#[derive(Args)]
pub struct RunArgs {
    /// The definition (an .asl.json file).
    definition: PathBuf,
    /// The execution input: JSON text, or @FILE.
    #[arg(long, default_value = "{}")]
    input: String,
    /// A Step Functions Local MockConfigFile answering Task states.
    #[arg(long, requires = "test_case")]
    mocks: Option<PathBuf>,
    /// The test case of the mock file to use.
    #[arg(long, requires = "mocks")]
    test_case: Option<String>,
    /// Invoke Lambda Task resources through this Lambda Invoke API (e.g. `cargo lambda watch`,
    /// http://127.0.0.1:9000); mocked states still answer from the mock file.
    #[arg(long)]
    lambda_endpoint: Option<String>,
    /// Send DynamoDB Task resources to this endpoint (e.g. DynamoDB Local).
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// The state machine name (default: the file name without .asl.json); mock files are keyed by it.
    #[arg(long)]
    name: Option<String>,
    /// The execution name (default: a random UUID).
    #[arg(long)]
    execution_name: Option<String>,
    /// Also print the execution history (GetExecutionHistory shape) before the result.
    #[arg(long)]
    history: bool,
    /// Run timers in virtual time: Wait states and retry intervals take no real time.
    #[arg(long)]
    virtual_time: bool,
    /// Print no progress.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the execution to its end and prints DescribeExecution JSON; exit code 0 only for SUCCEEDED.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (definition, definition_text) = load_definition(&args.definition)?;
    let input = parse_input(&args.input)?;
    let machine = args.name.clone().unwrap_or_else(|| machine_name(&args.definition));
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(async {
        let router =
            crate::tasks::router(args.lambda_endpoint.as_deref(), args.dynamodb_endpoint.as_deref(), NoInvoker).await;
        match (&args.mocks, &args.test_case) {
            (Some(file), Some(case)) => {
                let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
                let config = MockConfig::parse_str(&text)
                    .map_err(|e| anyhow::anyhow!("{} is not a valid mock file: {e}", file.display()))?;
                // Mocked states answer from the file; the others go to the endpoints.
                let invoker =
                    MockInvoker::with_fallback(&config, &machine, case, router).map_err(anyhow::Error::msg)?;
                execute(&args, definition, definition_text, input, &machine, invoker).await
            }
            _ => execute(&args, definition, definition_text, input, &machine, router).await,
        }
    })
}

async fn execute<I: TaskInvoker>(
    args: &RunArgs,
    definition: asl::Definition,
    text: String,
    input: serde_json::Value,
    machine: &str,
    invoker: I,
) -> anyhow::Result<ExitCode> {
    let clock = if args.virtual_time { Clock::virtual_at(Clock::Real.now_ms()) } else { Clock::Real };
    let store = Arc::new(MemoryStateStore::new());
    let mut rt = LocalRuntime::new(store.clone(), Arc::new(invoker), clock.clone(), Box::new(OsEntropy::new()));
    let progress = (!args.quiet).then(Progress::new);
    let name = args.execution_name.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let info = runtime::local_execution_info(machine, &name, input, clock.now_ms());
    let arn = info.execution_arn.clone();
    rt.start(info, Arc::new(definition), text).await?;
    if let Some(p) = progress {
        rt.set_observer(Box::new(p));
    }
    let record = rt.run_until_closed(&arn).await;
    drop(rt);
    let record = record?;
    if args.history {
        let events = store.history(&arn).await?;
        println!("{}", serde_json::to_string_pretty(&render::history(&events, true, Timestamps::Iso))?);
    }
    println!("{}", serde_json::to_string_pretty(&render::describe_execution(&record, Timestamps::Iso))?);
    Ok(if record.summary.status == RunStatus::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
