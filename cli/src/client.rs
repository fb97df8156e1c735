//! The CLI as a client of a running `switchyard serve` or a deployed stack:
//! `start`, `describe`, `history`, `list`, `stop`, `send-success` and
//! `send-failure` call the Step Functions JSON API at `--endpoint` and print
//! its answer as pretty JSON. An error answer prints
//! `error: <__type>: <message>` and exits 1; bad arguments and transport
//! errors exit 2.

mod sigv4;
mod transport;

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use serde_json::{Map, Value, json};

use crate::input::read_json_arg;
use transport::{ApiFailure, Client, Endpoint};

/// Where the API is.
#[derive(Args)]
pub struct EndpointArgs {
    /// The API's URL: `switchyard serve`'s (http://127.0.0.1:8083), or the stack's API Gateway stage
    /// URL (requests to *.amazonaws.com are signed with SigV4 and the default AWS credentials).
    #[arg(long, env = "SWITCHYARD_ENDPOINT")]
    endpoint: String,
    /// The region to sign requests for (default: the one in the endpoint's host name, else the AWS configuration's).
    #[arg(long)]
    region: Option<String>,
    /// Sign every request with SigV4 for this service, whatever the host: `execute-api` for an API
    /// Gateway custom domain, or for the local stack (scripts/stack-local.sh), which checks
    /// signatures as API Gateway's IAM auth does.
    #[arg(long, env = "SWITCHYARD_SIGN", value_name = "SERVICE")]
    sign: Option<String>,
}

/// Arguments of `switchyard start`.
#[derive(Args)]
pub struct StartArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The state machine's ARN.
    #[arg(long)]
    state_machine: String,
    /// The execution name (default: the server picks a UUID).
    #[arg(long)]
    name: Option<String>,
    /// The execution input: JSON text, or @FILE (default: {}).
    #[arg(long)]
    input: Option<String>,
}

/// Arguments of `switchyard describe`.
#[derive(Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The execution's ARN.
    execution_arn: String,
}

/// Arguments of `switchyard history`.
#[derive(Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The execution's ARN.
    execution_arn: String,
    /// Newest event first.
    #[arg(long)]
    reverse: bool,
    /// Events fetched per request (all of them are printed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    page_size: u32,
}

/// Arguments of `switchyard list`.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The state machine's ARN.
    #[arg(long)]
    state_machine: String,
    /// Only executions with this status.
    #[arg(long, value_parser = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"])]
    status: Option<String>,
    /// Executions fetched per request (all of them are printed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    page_size: u32,
}

/// Arguments of `switchyard stop`.
#[derive(Args)]
pub struct StopArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The execution's ARN.
    execution_arn: String,
    /// The error the execution is aborted with.
    #[arg(long)]
    error: Option<String>,
    /// The cause the execution is aborted with.
    #[arg(long)]
    cause: Option<String>,
}

/// Arguments of `switchyard send-success`.
#[derive(Args)]
pub struct SendSuccessArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The task token (`$$.Task.Token` of the waiting task).
    #[arg(long)]
    token: String,
    /// The task's output: JSON text, or @FILE.
    #[arg(long)]
    output: String,
}

/// Arguments of `switchyard send-failure`.
#[derive(Args)]
pub struct SendFailureArgs {
    #[command(flatten)]
    endpoint: EndpointArgs,
    /// The task token (`$$.Task.Token` of the waiting task).
    #[arg(long)]
    token: String,
    /// The error the task fails with.
    #[arg(long)]
    error: Option<String>,
    /// The cause the task fails with.
    #[arg(long)]
    cause: Option<String>,
}

/// StartExecution.
pub fn start(args: StartArgs) -> anyhow::Result<ExitCode> {
    let mut request = json!({"stateMachineArn": args.state_machine});
    set_optional(&mut request, "name", args.name);
    if let Some(input) = &args.input {
        let (text, _) = read_json_arg(input, "--input", "InvalidExecutionInput")?;
        request["input"] = Value::String(text);
    }
    execute(&args.endpoint, async |client| client.call("StartExecution", &request).await)
}

/// DescribeExecution.
pub fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let request = json!({"executionArn": args.execution_arn});
    execute(&args.endpoint, async |client| client.call("DescribeExecution", &request).await)
}

/// GetExecutionHistory, every page: prints `{"events": [...]}`.
pub fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let request = json!({"executionArn": args.execution_arn, "reverseOrder": args.reverse});
    execute(&args.endpoint, async |client| {
        all_pages(client, "GetExecutionHistory", &request, "events", args.page_size).await
    })
}

/// ListExecutions, every page: prints `{"executions": [...]}`.
pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let mut request = json!({"stateMachineArn": args.state_machine});
    set_optional(&mut request, "statusFilter", args.status);
    execute(&args.endpoint, async |client| {
        all_pages(client, "ListExecutions", &request, "executions", args.page_size).await
    })
}

/// StopExecution.
pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let mut request = json!({"executionArn": args.execution_arn});
    set_optional(&mut request, "error", args.error);
    set_optional(&mut request, "cause", args.cause);
    execute(&args.endpoint, async |client| client.call("StopExecution", &request).await)
}

/// SendTaskSuccess.
pub fn send_success(args: SendSuccessArgs) -> anyhow::Result<ExitCode> {
    let (output, _) = read_json_arg(&args.output, "--output", "InvalidOutput")?;
    let request = json!({"taskToken": args.token, "output": output});
    execute(&args.endpoint, async |client| client.call("SendTaskSuccess", &request).await)
}

/// SendTaskFailure.
pub fn send_failure(args: SendFailureArgs) -> anyhow::Result<ExitCode> {
    let mut request = json!({"taskToken": args.token});
    set_optional(&mut request, "error", args.error);
    set_optional(&mut request, "cause", args.cause);
    execute(&args.endpoint, async |client| client.call("SendTaskFailure", &request).await)
}

fn set_optional(request: &mut Value, field: &str, value: Option<String>) {
    if let Some(value) = value {
        request[field] = Value::String(value);
    }
}

/// Connects, runs `work` and prints its answer; an [`ApiFailure`] is printed
/// as `error: <type>: <message>` with exit code 1, any other error goes up
/// (exit code 2).
fn execute(
    endpoint: &EndpointArgs,
    work: impl AsyncFnOnce(&Client) -> anyhow::Result<Value>,
) -> anyhow::Result<ExitCode> {
    let url = Endpoint::parse(&endpoint.endpoint)?;
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let answer = tokio.block_on(async {
        let client = Client::new(url, endpoint.region.clone(), endpoint.sign.clone()).await?;
        work(&client).await
    });
    match answer {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match e.downcast::<ApiFailure>() {
            Ok(failure) => {
                eprintln!("error: {failure}");
                Ok(ExitCode::from(1))
            }
            Err(e) => Err(e),
        },
    }
}

/// Calls a paginated action until it answers no `nextToken`; returns
/// `{key: [every item]}`.
async fn all_pages(client: &Client, action: &str, request: &Value, key: &str, page_size: u32) -> anyhow::Result<Value> {
    let items = collect_pages(key, |token| {
        let mut request = request.clone();
        request["maxResults"] = json!(page_size);
        if let Some(token) = token {
            request["nextToken"] = Value::String(token);
        }
        async move { client.call(action, &request).await }
    })
    .await?;
    let mut out = Map::new();
    out.insert(key.to_string(), Value::Array(items));
    Ok(Value::Object(out))
}

/// The items under `key` of every page `fetch` answers, following `nextToken`.
async fn collect_pages<F, Fut>(key: &str, mut fetch: F) -> anyhow::Result<Vec<Value>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = anyhow::Result<Value>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut page = fetch(token.clone()).await?;
        match page.get_mut(key).map(Value::take) {
            Some(Value::Array(page_items)) => items.extend(page_items),
            None | Some(Value::Null) => {}
            Some(_) => bail!("the answer's {key} is not a list"),
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => {
                if token.as_deref() == Some(next) {
                    bail!("the API answered the same nextToken twice: {next}");
                }
                token = Some(next.to_string());
            }
            _ => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn pages_are_followed_until_there_is_no_next_token() {
        let pages = [
            json!({"events": [1, 2], "nextToken": "a"}),
            json!({"events": [3], "nextToken": "b"}),
            json!({"events": [4], "nextToken": ""}),
        ];
        let mut asked = Vec::new();
        let items = run(collect_pages("events", |token| {
            asked.push(token);
            std::future::ready(Ok(pages[asked.len() - 1].clone()))
        }))
        .unwrap();
        assert_eq!(items, [json!(1), json!(2), json!(3), json!(4)]);
        assert_eq!(asked, [None, Some("a".to_string()), Some("b".to_string())]);
    }

    #[test]
    fn a_repeated_token_or_a_bad_page_is_an_error() {
        let err = run(collect_pages("events", |_| std::future::ready(Ok(json!({"events": [], "nextToken": "x"})))))
            .unwrap_err();
        assert_eq!(err.to_string(), "the API answered the same nextToken twice: x");
        let err = run(collect_pages("events", |_| std::future::ready(Ok(json!({"events": 1}))))).unwrap_err();
        assert_eq!(err.to_string(), "the answer's events is not a list");
        let empty = run(collect_pages("executions", |_| std::future::ready(Ok(json!({}))))).unwrap();
        assert!(empty.is_empty());
    }
}
