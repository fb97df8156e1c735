//! HTTP in, HTTP out: the one routing function API Gateway (through the api
//! Lambda) and the local server share.
//!
//! - `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`: the Step Functions API.
//! - `POST` or `GET /callbacks/<token>/success|failure|heartbeat`: capability
//!   callback URLs, no credentials needed (the token is the capability).
//!   `success` takes the task output as the body (POST; empty means `{}`)
//!   or as the `output` query parameter (GET, for links in e-mails);
//!   `failure` takes `{"error", "cause"}` (POST) or `error`/`cause` query parameters.
//!
//! A path may carry a stage prefix (`/prod/callbacks/…`) as API Gateway
//! passes it. Every answer is JSON; no malformed request yields a 500.

use asl::Failure;
use runtime::StateStore;
use runtime::catalog::Catalog;
use runtime::stepper::Carrier;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::service::Api;

/// An HTTP request, as far as the API reads it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path, e.g. `/` or `/callbacks/<token>/success`.
    pub path: &'a str,
    /// The query string without `?`, if any.
    pub query: Option<&'a str>,
    /// The `X-Amz-Target` header, if any.
    pub target: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

const AMZ_JSON: &str = "application/x-amz-json-1.0";

fn answer(status: u16, content_type: &'static str, body: &Value) -> HttpResponse {
    HttpResponse { status, content_type, body: body.to_string().into_bytes() }
}

fn api_error(e: &ApiError) -> HttpResponse {
    answer(e.status(), AMZ_JSON, &e.body())
}

/// The HTTP status a callback URL answers an error with (they are called by
/// plain HTTP clients, which read statuses rather than `__type`).
fn callback_status(e: &ApiError) -> u16 {
    match e.kind {
        "InvalidToken" => 403,
        "TaskDoesNotExist" => 404,
        "TaskTimedOut" => 410,
        _ => e.status(),
    }
}

/// Answers one request.
pub async fn route<S: StateStore + Catalog, C: Carrier>(api: &Api<S, C>, request: HttpRequest<'_>) -> HttpResponse {
    if let Some(rest) = request.path.find("/callbacks/").map(|i| &request.path[i + "/callbacks/".len()..]) {
        return callback(api, request, rest).await;
    }
    if request.method != "POST" {
        let e = ApiError::new("UnknownOperationException", format!("No route for {} {}", request.method, request.path));
        return answer(404, AMZ_JSON, &e.body());
    }
    let Some(action) = request.target.and_then(|t| t.strip_prefix("AWSStepFunctions.")) else {
        let e = ApiError::new(
            "UnknownOperationException",
            "The X-Amz-Target header must name an action: AWSStepFunctions.<Action>",
        );
        return api_error(&e);
    };
    match api.call(action, request.body).await {
        Ok(body) => answer(200, AMZ_JSON, &body),
        Err(e) => api_error(&e),
    }
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn callback<S: StateStore + Catalog, C: Carrier>(
    api: &Api<S, C>,
    request: HttpRequest<'_>,
    rest: &str,
) -> HttpResponse {
    let result = async {
        let (token, action) = rest.split_once('/').ok_or_else(|| {
            ApiError::new("UnknownOperationException", "Callback URLs end in /success, /failure or /heartbeat")
        })?;
        let get = match request.method {
            "GET" => true,
            "POST" => false,
            other => {
                return Err(ApiError::new(
                    "UnknownOperationException",
                    format!("Callback URLs take GET or POST, not {other}"),
                ));
            }
        };
        let body = std::str::from_utf8(request.body).map_err(|_| ApiError::serialization("The body is not UTF-8"))?;
        match action {
            "success" => {
                let output = if get { query_param(request.query, "output") } else { Some(body.to_string()) };
                let output = output.filter(|o| !o.trim().is_empty()).unwrap_or_else(|| "{}".to_string());
                api.send_task_success(token, &output).await
            }
            "failure" => {
                let (error, cause) = if get {
                    (query_param(request.query, "error"), query_param(request.query, "cause"))
                } else if body.trim().is_empty() {
                    (None, None)
                } else {
                    let v: Value = serde_json::from_str(body).map_err(|e| {
                        ApiError::serialization(format!("The body must be {{\"error\", \"cause\"}}: {e}"))
                    })?;
                    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
                    (text("error"), text("cause"))
                };
                api.send_task_failure(token, Failure::new(error.unwrap_or_default(), cause.unwrap_or_default())).await
            }
            "heartbeat" => api.send_task_heartbeat(token).await,
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!("Callback URLs end in /success, /failure or /heartbeat, not /{other}"),
            )),
        }
    }
    .await;
    match result {
        Ok(()) => answer(200, "application/json", &json!({})),
        Err(e) => answer(callback_status(&e), "application/json", &e.body()),
    }
}
