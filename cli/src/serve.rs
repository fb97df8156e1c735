//! `switchyard serve`: one process hosting the Step Functions API (the same
//! request handling as the api Lambda), the stepper, its timers and task
//! invokers — on the in-memory store, or on DynamoDB (`--dynamodb-endpoint`).

use std::io::Write;
use std::net::SocketAddr;
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
use runtime::{Clock, Delivery, MemoryStateStore, ParkingInvoker, StateStore};
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
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        match &args.dynamodb_endpoint {
            Some(endpoint) => {
                let config = aws_adapters::local_config(endpoint).await;
                let client = aws_sdk_dynamodb::Client::new(&config);
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
    // Nested executions start through the same API.
    let invoker = NestedInvoker::new(api.clone(), router);
    let stepper = Arc::new(
        Stepper::new(store.clone(), Arc::new(invoker), carrier.clone(), Clock::Real)
            // Timers are slept in this process: no hand-over needed.
            .with_max_sleep_ms(i64::MAX / 2),
    );
    tokio::spawn(async move {
        while let Some(delivery) = rx.recv().await {
            let stepper = stepper.clone();
            tokio::spawn(async move {
                // Like Lambda's asynchronous invocation: two retries, then the delivery is reported lost.
                for attempt in 0..3u32 {
                    match stepper.handle(delivery.clone()).await {
                        Ok(_) => return,
                        Err(e) => {
                            eprintln!("switchyard: delivery to {} failed: {e}", delivery.execution_arn);
                            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                        }
                    }
                }
                eprintln!("switchyard: gave up a delivery to {}", delivery.execution_arn);
            });
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
