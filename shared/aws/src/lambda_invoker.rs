//! Lambda Task resources, invoked as AWS Step Functions invokes them:
//!
//! - a plain function ARN (`arn:aws:lambda:…:function:NAME`): Invoke with the
//!   task input as payload; the result is the function's payload;
//! - the optimized integration `arn:aws:states:::lambda:invoke`: Parameters
//!   are the Invoke request (`FunctionName`, `Payload`, `InvocationType`,
//!   `Qualifier`, `ClientContext`, `LogType`); the result is the Invoke
//!   response envelope `{ExecutedVersion, Payload, SdkHttpMetadata,
//!   SdkResponseMetadata, StatusCode}`;
//! - `lambda:invoke.waitForTaskToken`: invoked the same way — synchronously
//!   unless the Parameters ask for `InvocationType: Event`, as Step Functions
//!   does (its heartbeat clock starts once the function has returned) — and
//!   reported as submitted with that envelope; the result comes later by
//!   SendTaskSuccess/SendTaskFailure with the task token.
//!
//! Errors are named as Step Functions names them: a function error is the
//! function's `errorType` (`Lambda.Unknown` when it gave none, as for
//! timeouts and crashes) with its error payload as the cause; a Lambda
//! service error is `Lambda.<ErrorCode>` for the Invoke API's modelled
//! exceptions (`Lambda.ResourceNotFoundException`,
//! `Lambda.TooManyRequestsException`, `Lambda.ServiceException`, …) and
//! `Lambda.AWSLambdaException` for any other (an access denial…), with the
//! cause in the AWS SDK for Java's words; a request that got no answer is
//! `Lambda.SdkClientException`.
//!
//! `cargo lambda watch` answers differently from Lambda, and both shapes are
//! read: a function error comes as HTTP 500 with the error payload and no
//! `X-Amz-Function-Error` header (Lambda: 200 with the header), an unknown
//! function as 404 without an error code (Lambda: `ResourceNotFoundException`),
//! and it knows functions by name only, not by ARN. SDK retries are always
//! off: Step Functions does not retry an Invoke behind the definition's back
//! (that is what Retry is for), and a retried Invoke runs the function again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asl::Failure;
use asl::resource::{Pattern, Resource};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use engine::{ExecutionInfo, TaskOutcome, TaskRequest};
use runtime::TaskInvoker;
use serde_json::{Map, Value, json};

/// The account of ARNs made up for local endpoints (README "Local identities").
const LOCAL_ACCOUNT: &str = "123456789012";

/// The longest a Lambda function runs (15 minutes).
const MAX_FUNCTION_SECONDS: u64 = 900;

/// How long past the function's own limit an Invoke may take before it is
/// given up as unanswered.
const GRACE_SECONDS: u64 = 5;

/// The members of `lambda:invoke` Parameters (the Invoke request).
const INVOKE_MEMBERS: [&str; 6] =
    ["FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType"];

/// The error codes the Invoke API models: Step Functions names these
/// `Lambda.<code>`; any other service error `Lambda.AWSLambdaException`.
const MODELLED_ERRORS: [&str; 43] = [
    "CodeArtifactUserDeletedException",
    "CodeArtifactUserFailedException",
    "CodeArtifactUserPendingException",
    "DurableExecutionAlreadyStartedException",
    "EC2AccessDeniedException",
    "EC2ThrottledException",
    "EC2UnexpectedException",
    "EFSIOException",
    "EFSMountConnectivityException",
    "EFSMountFailureException",
    "EFSMountTimeoutException",
    "ENILimitReachedException",
    "ENINotReadyException",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvalidRuntimeException",
    "InvalidSecurityGroupIDException",
    "InvalidSubnetIDException",
    "InvalidZipFileException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "ModeNotSupportedException",
    "NoPublishedVersionException",
    "RecursiveInvocationException",
    "RequestTooLargeException",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "ResourceNotReadyException",
    "S3FilesMountConnectivityException",
    "S3FilesMountFailureException",
    "S3FilesMountTimeoutException",
    "SerializedRequestEntityTooLargeException",
    "ServiceException",
    "ServiceQuotaExceededException",
    "SnapStartException",
    "SnapStartNotReadyException",
    "SnapStartRegenerationFailureException",
    "SnapStartTimeoutException",
    "SubnetIPAddressLimitReachedException",
    "TooManyRequestsException",
    "UnsupportedMediaTypeException",
];

/// The task invoker for Lambda functions.
#[derive(Clone, Debug)]
pub struct LambdaInvoker {
    client: Client,
    /// Send function names, not ARNs, and make up AWS's answers the endpoint
    /// does not give (for `cargo lambda watch`, which knows binaries by name).
    local: bool,
}

/// What a Task gets back from a Lambda invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The function's payload (a plain function ARN).
    Payload,
    /// The Invoke response envelope (`lambda:invoke`).
    Envelope,
    /// The envelope, reported as submitted (`lambda:invoke.waitForTaskToken`).
    Submitted,
}

/// One Invoke call, as Step Functions makes it for a Task.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeCall {
    /// `FunctionName`: a name, a (partial) ARN, optionally with `:qualifier`.
    pub function_name: String,
    /// The request payload (JSON text).
    pub payload: Vec<u8>,
    /// `InvocationType` (RequestResponse when absent).
    pub invocation_type: Option<String>,
    /// `Qualifier`.
    pub qualifier: Option<String>,
    /// `ClientContext` (base64).
    pub client_context: Option<String>,
    /// `LogType` (`None` or `Tail`).
    pub log_type: Option<String>,
    /// What the Task's result is.
    pub shape: Shape,
}

/// Whether this invoker runs `resource`.
pub fn handles(resource: &Resource) -> bool {
    match resource {
        Resource::LambdaFunction { .. } => true,
        Resource::Integration { service, action, pattern, .. } => {
            service == "lambda"
                && action == "invoke"
                && matches!(pattern, Pattern::RequestResponse | Pattern::WaitForTaskToken)
        }
    }
}

impl InvokeCall {
    /// The call for `request`, or the failure that refuses it: a resource this
    /// invoker does not run, or Parameters the Invoke API does not take
    /// (`States.Runtime`, as Step Functions refuses them).
    pub fn for_request(request: &TaskRequest) -> Result<InvokeCall, Failure> {
        if !handles(&request.resource) {
            return Err(runtime::invoker::no_invoker_failure(request));
        }
        let Resource::Integration { pattern, .. } = &request.resource else {
            return Ok(InvokeCall {
                function_name: request.resource.arn().to_string(),
                payload: request.input.to_string().into_bytes(),
                invocation_type: None,
                qualifier: None,
                client_context: None,
                log_type: None,
                shape: Shape::Payload,
            });
        };
        let refuse = |what: String| {
            Failure::runtime(format!(
                "{what} (Task state '{}', resource '{}')",
                request.state_name,
                request.resource.arn()
            ))
        };
        let Some(params) = request.input.as_object() else {
            return Err(refuse(format!(
                "The Parameters of a Lambda Invoke must be an object with the members {}, but were {}.",
                INVOKE_MEMBERS.join(", "),
                request.input
            )));
        };
        if let Some(unknown) = params.keys().find(|k| !INVOKE_MEMBERS.contains(&k.as_str())) {
            return Err(refuse(format!(
                "The field '{unknown}' is not supported by Step Functions for the Lambda Invoke API: use {}.",
                INVOKE_MEMBERS.join(", ")
            )));
        }
        let text = |name: &str| -> Result<Option<String>, Failure> {
            match params.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(refuse(format!("The field '{name}' must be a string, but was {other}."))),
            }
        };
        let function_name = text("FunctionName")?
            .filter(|name| !name.is_empty())
            .ok_or_else(|| refuse("The field 'FunctionName' is required but was missing.".to_string()))?;
        Ok(InvokeCall {
            function_name,
            payload: payload_bytes(params.get("Payload")),
            invocation_type: text("InvocationType")?,
            qualifier: text("Qualifier")?,
            client_context: text("ClientContext")?,
            log_type: text("LogType")?,
            shape: if *pattern == Pattern::WaitForTaskToken { Shape::Submitted } else { Shape::Envelope },
        })
    }
}

/// The request payload for a `Payload` parameter: `{}` when absent or null, a
/// string that is JSON text as that text, anything else as JSON.
pub fn payload_bytes(payload: Option<&Value>) -> Vec<u8> {
    match payload {
        None | Some(Value::Null) => b"{}".to_vec(),
        Some(Value::String(s)) if serde_json::from_str::<Value>(s).is_ok() => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    }
}

/// A function's response payload as JSON: `null` when empty, the text as a
/// JSON string when it is not JSON.
pub fn parse_payload(payload: &[u8]) -> Value {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(payload).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// The failure of a function that returned an error payload: its `errorType`
/// and the payload as the cause, or `Lambda.Unknown` when it names no type.
pub fn function_failure(payload: &[u8]) -> Failure {
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    let text = match &parsed {
        Some(value) => value.to_string(),
        None => String::from_utf8_lossy(payload).into_owned(),
    };
    match parsed.as_ref().and_then(|v| v.get("errorType")).and_then(Value::as_str).filter(|t| !t.is_empty()) {
        Some(error_type) => Failure::new(error_type, text),
        None => Failure::new(
            "Lambda.Unknown",
            format!(
                "The cause could not be determined because Lambda did not return an error type. Returned payload: {text}"
            ),
        ),
    }
}

/// The cause of a Lambda service error, in the AWS SDK for Java's words.
pub fn service_cause(message: &str, status: u16, code: &str, request_id: &str) -> String {
    format!(
        "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
    )
}

/// What an Invoke answered with an HTTP error status, as the SDK saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorReply {
    /// The HTTP status.
    pub status: u16,
    /// The error code the SDK read (`x-amzn-ErrorType` or the body), if any.
    pub code: Option<String>,
    /// The error message the SDK read, if any.
    pub message: Option<String>,
    /// The response body.
    pub body: Vec<u8>,
    /// The response headers.
    pub headers: Vec<(String, String)>,
}

/// What an Invoke answered with a successful HTTP status (or an error status
/// that carries a function error, as `cargo lambda watch` answers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    /// The HTTP status.
    pub http_status: u16,
    /// The Invoke response's `StatusCode`.
    pub status_code: i32,
    /// The response headers, as received.
    pub headers: Vec<(String, String)>,
    /// `FunctionError` (`Handled`/`Unhandled`) when the function failed.
    pub function_error: Option<String>,
    /// `ExecutedVersion`.
    pub executed_version: Option<String>,
    /// `LogResult` (base64 log tail, with `LogType: Tail`).
    pub log_result: Option<String>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// An Invoke's answer, or the failure it amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The function ran (successfully or not).
    Reply(Reply),
    /// Lambda refused the call, or it got no answer.
    Failed(Failure),
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The full, qualified ARN Lambda names in "Function not found" messages.
pub fn qualified_arn(function_name: &str, qualifier: Option<&str>, region: &str) -> String {
    let arn = if function_name.starts_with("arn:") {
        function_name.to_string()
    } else if function_name.contains(":function:") {
        format!("arn:aws:lambda:{region}:{function_name}")
    } else {
        format!("arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{function_name}")
    };
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    if arn.split(':').count() > 7 { arn } else { format!("{arn}:{}", qualifier.unwrap_or("$LATEST")) }
}

/// The function's name and the qualifier written in it, from a name, an ARN
/// or a partial ARN (`ACCOUNT:function:NAME`), each optionally `:QUALIFIER`.
pub fn function_name_of(function_name: &str) -> (String, Option<String>) {
    let rest = match function_name.find("function:") {
        Some(at) if function_name.starts_with("arn:") || function_name[..at].ends_with(':') => {
            &function_name[at + "function:".len()..]
        }
        _ => function_name,
    };
    match rest.split_once(':') {
        Some((name, qualifier)) => (name.to_string(), Some(qualifier.to_string())),
        None => (rest.to_string(), None),
    }
}

impl ErrorReply {
    /// What this error reply amounts to for `call`. `local` reads the shapes of
    /// `cargo lambda watch`: a function error as HTTP 500 with the error
    /// payload, an unknown function as 404 without an error code.
    pub fn answer(self, call: &InvokeCall, region: &str, local: bool) -> Answer {
        let request_id = header(&self.headers, "x-amzn-RequestId").map(str::to_string).unwrap_or_else(new_request_id);
        let body: Option<Value> = serde_json::from_slice(&self.body).ok();
        if self.code.is_none() {
            let function_error = body
                .as_ref()
                .and_then(Value::as_object)
                .is_some_and(|o| o.contains_key("errorType") || o.contains_key("errorMessage"));
            if function_error && self.status >= 500 {
                return Answer::Reply(Reply {
                    http_status: self.status,
                    status_code: i32::from(self.status),
                    function_error: Some("Unhandled".to_string()),
                    payload: self.body,
                    headers: self.headers,
                    ..Reply::default()
                });
            }
            if self.status == 404 && local {
                let message = format!(
                    "Function not found: {}",
                    qualified_arn(&call.function_name, call.qualifier.as_deref(), region)
                );
                let code = "ResourceNotFoundException";
                return Answer::Failed(Failure::new(
                    format!("Lambda.{code}"),
                    service_cause(&message, self.status, code, &request_id),
                ));
            }
        }
        let code = self.code.clone().unwrap_or_else(|| {
            match self.status {
                429 => "TooManyRequestsException",
                500..=599 => "ServiceException",
                _ => "AWSLambdaException",
            }
            .to_string()
        });
        let message = self
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .or_else(|| {
                let body = body.as_ref()?;
                ["Message", "message", "errorMessage", "detail"]
                    .iter()
                    .find_map(|k| body.get(*k).and_then(Value::as_str))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        let error = if MODELLED_ERRORS.contains(&code.as_str()) {
            format!("Lambda.{code}")
        } else {
            "Lambda.AWSLambdaException".into()
        };
        Answer::Failed(Failure::new(error, service_cause(&message, self.status, &code, &request_id)))
    }
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A header name as AWS spells it in `SdkHttpMetadata` (HTTP/2 and hyper
/// lowercase them): `Content-Type`, `x-amzn-RequestId`, `X-Amz-Executed-Version`.
pub fn header_name(name: &str) -> String {
    const SPELLED: [&str; 7] = [
        "x-amzn-RequestId",
        "x-amzn-Remapped-Content-Length",
        "X-Amzn-Trace-Id",
        "X-Amz-Executed-Version",
        "X-Amz-Log-Result",
        "X-Amz-Function-Error",
        "x-amzn-ErrorType",
    ];
    if let Some(known) = SPELLED.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return known.to_string();
    }
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl Reply {
    /// The Task outcome of this reply for a call of `shape`.
    pub fn outcome(&self, shape: Shape) -> TaskOutcome {
        if self.function_error.is_some() {
            return TaskOutcome::Failed(function_failure(&self.payload));
        }
        match shape {
            Shape::Payload => TaskOutcome::Succeeded(parse_payload(&self.payload)),
            Shape::Envelope => TaskOutcome::Succeeded(self.envelope()),
            Shape::Submitted => TaskOutcome::Submitted(self.envelope()),
        }
    }

    /// The Invoke response as the optimized integration reports it.
    pub fn envelope(&self) -> Value {
        let request_id = header(&self.headers, "x-amzn-RequestId").map(str::to_string).unwrap_or_else(new_request_id);
        let executed_version = self.executed_version.clone().unwrap_or_else(|| "$LATEST".to_string());
        // The headers received, with the two the envelope itself reports
        // added when the endpoint (cargo lambda watch) did not send them.
        let mut headers: Vec<(String, String)> =
            self.headers.iter().map(|(name, value)| (header_name(name), value.clone())).collect();
        if header(&headers, "x-amzn-RequestId").is_none() {
            headers.push((header_name("x-amzn-requestid"), request_id.clone()));
        }
        if header(&headers, "X-Amz-Executed-Version").is_none() {
            headers.push((header_name("x-amz-executed-version"), executed_version.clone()));
        }
        headers.sort_by_key(|(name, _)| name.to_ascii_lowercase());
        let mut all = Map::new();
        let mut last = Map::new();
        for (name, value) in headers {
            match all.get_mut(&name) {
                Some(Value::Array(values)) => values.push(Value::String(value.clone())),
                _ => {
                    all.insert(name.clone(), json!([value]));
                }
            }
            last.insert(name, Value::String(value));
        }
        let mut envelope = Map::new();
        envelope.insert("ExecutedVersion".into(), Value::String(executed_version));
        if let Some(log) = &self.log_result {
            envelope.insert("LogResult".into(), Value::String(log.clone()));
        }
        envelope.insert("Payload".into(), parse_payload(&self.payload));
        envelope.insert(
            "SdkHttpMetadata".into(),
            json!({"AllHttpHeaders": all, "HttpHeaders": last, "HttpStatusCode": self.http_status}),
        );
        envelope.insert("SdkResponseMetadata".into(), json!({ "RequestId": request_id }));
        envelope.insert("StatusCode".into(), Value::from(self.status_code));
        Value::Object(envelope)
    }
}

/// Keeps the status and headers of the response to one Invoke (the SDK's
/// output type drops most headers; the envelope reports them all).
#[derive(Debug, Clone, Default)]
struct ResponseHead(Arc<Mutex<Option<Head>>>);

/// An HTTP status and the headers that came with it.
type Head = (u16, Vec<(String, String)>);

impl ResponseHead {
    fn take(&self) -> Option<Head> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Intercept for ResponseHead {
    fn name(&self) -> &'static str {
        "switchyard::ResponseHead"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let response = context.response();
        let headers = response.headers().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((response.status().as_u16(), headers));
        Ok(())
    }
}

impl LambdaInvoker {
    /// An invoker calling Lambda with `client`'s configuration, SDK retries
    /// turned off.
    pub fn new(client: Client) -> Self {
        let config = client.config().to_builder().retry_config(RetryConfig::disabled()).build();
        LambdaInvoker { client: Client::from_conf(config), local: false }
    }

    /// An invoker for a local Lambda endpoint such as `cargo lambda watch`
    /// (`http://127.0.0.1:9000`): test credentials, region us-east-1, no SDK
    /// retries, and functions named by name (the endpoint does not resolve ARNs).
    pub async fn for_endpoint(url: &str) -> Self {
        let sdk_config = crate::local_config(url).await;
        let config = aws_sdk_lambda::config::Builder::from(&sdk_config).retry_config(RetryConfig::disabled()).build();
        LambdaInvoker { client: Client::from_conf(config), local: true }
    }

    fn region(&self) -> String {
        self.client.config().region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".to_string())
    }

    /// Sends one Invoke and reads its answer.
    pub async fn send(&self, call: &InvokeCall) -> Answer {
        let (function_name, qualifier) = if self.local {
            let (name, qualifier) = function_name_of(&call.function_name);
            (name, call.qualifier.clone().or(qualifier))
        } else {
            (call.function_name.clone(), call.qualifier.clone())
        };
        let head = ResponseHead::default();
        let sent = self
            .client
            .invoke()
            .function_name(function_name)
            .payload(Blob::new(call.payload.clone()))
            .set_invocation_type(call.invocation_type.as_deref().map(InvocationType::from))
            .set_qualifier(qualifier)
            .set_client_context(call.client_context.clone())
            .set_log_type(call.log_type.as_deref().map(LogType::from))
            .customize()
            .interceptor(head.clone())
            .send()
            .await;
        match sent {
            Ok(out) => {
                let (http_status, headers) = head.take().unwrap_or_else(|| (200, Vec::new()));
                Answer::Reply(Reply {
                    http_status,
                    status_code: out.status_code(),
                    headers,
                    function_error: out.function_error().map(str::to_string),
                    executed_version: out.executed_version().map(str::to_string),
                    log_result: out.log_result().map(str::to_string),
                    payload: out.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default(),
                })
            }
            Err(SdkError::ServiceError(e)) => {
                let raw = e.raw();
                let reply = ErrorReply {
                    status: raw.status().as_u16(),
                    code: e.err().code().map(str::to_string),
                    message: e.err().message().map(str::to_string),
                    body: raw.body().bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                    headers: raw.headers().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
                };
                reply.answer(call, &self.region(), self.local)
            }
            Err(e) => Answer::Failed(Failure::new(
                "Lambda.SdkClientException",
                format!("Unable to execute HTTP request: {}", DisplayErrorContext(&e)),
            )),
        }
    }
}

/// How long an Invoke for `request` may take: the function's limit (the
/// Task's TimeoutSeconds, at most Lambda's 15 minutes) and a few seconds.
pub fn invoke_limit(request: &TaskRequest) -> Duration {
    let seconds = request.timeout_seconds.unwrap_or(MAX_FUNCTION_SECONDS).min(MAX_FUNCTION_SECONDS);
    Duration::from_secs(seconds + GRACE_SECONDS)
}

impl TaskInvoker for LambdaInvoker {
    async fn invoke(&self, _execution: &ExecutionInfo, request: &TaskRequest) -> TaskOutcome {
        let call = match InvokeCall::for_request(request) {
            Ok(call) => call,
            Err(failure) => return TaskOutcome::Failed(failure),
        };
        // The Task's timeout is the engine's timer; this only keeps a lost
        // answer from holding the invoker forever.
        let limit = invoke_limit(request);
        match tokio::time::timeout(limit, self.send(&call)).await {
            Ok(Answer::Reply(reply)) => reply.outcome(call.shape),
            Ok(Answer::Failed(failure)) => TaskOutcome::Failed(failure),
            Err(_) => TaskOutcome::Failed(Failure::new(
                "Lambda.SdkClientException",
                format!("Unable to execute HTTP request: no answer from Lambda within {} seconds", limit.as_secs()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            task_id: 1,
            run: engine::RunId::root(),
            state: asl::definition::StateId(0),
            state_name: "Call".into(),
            resource: Resource::parse(resource).expect("a resource"),
            input,
            token: None,
            timeout_seconds: None,
            heartbeat_seconds: None,
            retry_count: 0,
        }
    }

    const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:task-probe";

    #[test]
    fn handled_resources() {
        let r = |text: &str| Resource::parse(text).expect("a resource");
        assert!(handles(&r(FUNCTION)));
        assert!(handles(&r("arn:aws:states:::lambda:invoke")));
        assert!(handles(&r("arn:aws:states:::lambda:invoke.waitForTaskToken")));
        assert!(!handles(&r("arn:aws:states:::dynamodb:putItem")));
        assert!(!handles(&r("arn:aws:states:::aws-sdk:lambda:invoke")));
    }

    #[test]
    fn a_plain_function_arn_sends_the_input() {
        let call = InvokeCall::for_request(&request(FUNCTION, json!({"mode": "echo", "n": [1, 2]}))).expect("a call");
        assert_eq!(call.function_name, FUNCTION);
        assert_eq!(String::from_utf8(call.payload).expect("utf-8"), r#"{"mode":"echo","n":[1,2]}"#);
        assert_eq!((call.invocation_type, call.qualifier, call.shape), (None, None, Shape::Payload));
    }

    #[test]
    fn invoke_parameters_are_the_invoke_request() {
        let input = json!({"FunctionName": "task-probe", "Payload": {"a": 1}, "InvocationType": "Event",
            "Qualifier": "prod", "ClientContext": "e30=", "LogType": "Tail"});
        let call = InvokeCall::for_request(&request("arn:aws:states:::lambda:invoke", input)).expect("a call");
        assert_eq!(
            call,
            InvokeCall {
                function_name: "task-probe".into(),
                payload: br#"{"a":1}"#.to_vec(),
                invocation_type: Some("Event".into()),
                qualifier: Some("prod".into()),
                client_context: Some("e30=".into()),
                log_type: Some("Tail".into()),
                shape: Shape::Envelope,
            }
        );
        let wait = request("arn:aws:states:::lambda:invoke.waitForTaskToken", json!({"FunctionName": "f"}));
        let call = InvokeCall::for_request(&wait).expect("a call");
        assert_eq!((call.shape, call.payload), (Shape::Submitted, b"{}".to_vec()));
    }

    #[test]
    fn payloads_as_step_functions_sends_them() {
        assert_eq!(payload_bytes(None), b"{}");
        assert_eq!(payload_bytes(Some(&Value::Null)), b"{}");
        assert_eq!(payload_bytes(Some(&json!("{\"a\": 1}"))), b"{\"a\": 1}");
        assert_eq!(payload_bytes(Some(&json!("plain text"))), b"\"plain text\"");
        assert_eq!(payload_bytes(Some(&json!([1, "x"]))), b"[1,\"x\"]");
    }

    #[test]
    fn unknown_or_bad_parameters_are_refused() {
        let refused = |input: Value| {
            InvokeCall::for_request(&request("arn:aws:states:::lambda:invoke", input)).expect_err("refused")
        };
        let f = refused(json!({"FunctionName": "f", "Payload": {}, "Timeout": 3}));
        assert_eq!(f.error, "States.Runtime");
        assert!(f.cause.contains("The field 'Timeout' is not supported"), "{}", f.cause);
        assert!(f.cause.contains("state 'Call'"), "{}", f.cause);
        let f = refused(json!({"Payload": {}}));
        assert!(f.cause.contains("'FunctionName' is required"), "{}", f.cause);
        let f = refused(json!({"FunctionName": 7}));
        assert!(f.cause.contains("'FunctionName' must be a string"), "{}", f.cause);
        let f = refused(json!("task-probe"));
        assert_eq!(f.error, "States.Runtime");
        // Other resources are not ours: the router's no-invoker failure.
        let f = InvokeCall::for_request(&request("arn:aws:states:::sqs:sendMessage", json!({}))).expect_err("refused");
        assert_eq!(f, runtime::invoker::no_invoker_failure(&request("arn:aws:states:::sqs:sendMessage", json!({}))));
    }

    #[test]
    fn function_errors_name_their_type() {
        let f = function_failure(br#"{"errorType":"CustomError","errorMessage":"failed on purpose"}"#);
        assert_eq!(f, Failure::new("CustomError", r#"{"errorType":"CustomError","errorMessage":"failed on purpose"}"#));
        // Python's runtime answers with spaces; Step Functions reports compact JSON in the payload's order.
        let f = function_failure(
            br#"{"errorMessage": "x", "errorType": "ValueError", "requestId": "r", "stackTrace": []}"#,
        );
        assert_eq!(f.error, "ValueError");
        assert_eq!(f.cause, r#"{"errorMessage":"x","errorType":"ValueError","requestId":"r","stackTrace":[]}"#);
        let f = function_failure(br#"{"errorMessage":"2026-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds"}"#);
        assert_eq!(f.error, "Lambda.Unknown");
        assert_eq!(
            f.cause,
            "The cause could not be determined because Lambda did not return an error type. Returned payload: \
             {\"errorMessage\":\"2026-01-01T00:00:00.000Z 1 Task timed out after 3.00 seconds\"}"
        );
        assert_eq!(function_failure(b"crashed").error, "Lambda.Unknown");
    }

    #[test]
    fn replies_become_outcomes() {
        let reply =
            Reply { http_status: 200, status_code: 200, payload: br#"{"echo":1}"#.to_vec(), ..Reply::default() };
        assert_eq!(reply.outcome(Shape::Payload), TaskOutcome::Succeeded(json!({"echo": 1})));
        let empty = Reply { payload: Vec::new(), ..reply.clone() };
        assert_eq!(empty.outcome(Shape::Payload), TaskOutcome::Succeeded(Value::Null));
        let text = Reply { payload: b"not json".to_vec(), ..reply.clone() };
        assert_eq!(text.outcome(Shape::Payload), TaskOutcome::Succeeded(json!("not json")));
        let failed = Reply {
            function_error: Some("Handled".into()),
            payload: br#"{"errorType":"E","errorMessage":"m"}"#.to_vec(),
            ..reply.clone()
        };
        for shape in [Shape::Payload, Shape::Envelope, Shape::Submitted] {
            assert_eq!(
                failed.outcome(shape),
                TaskOutcome::Failed(Failure::new("E", r#"{"errorType":"E","errorMessage":"m"}"#))
            );
        }
        let TaskOutcome::Submitted(envelope) = reply.outcome(Shape::Submitted) else { panic!("submitted") };
        assert_eq!(envelope["Payload"], json!({"echo": 1}));
    }

    #[test]
    fn the_envelope_has_the_shape_of_step_functions() {
        let reply = Reply {
            http_status: 200,
            status_code: 200,
            headers: vec![
                ("date".into(), "Thu, 01 Jan 2026 00:00:00 GMT".into()),
                ("content-type".into(), "application/json".into()),
                ("x-amzn-requestid".into(), "6f2c-req".into()),
                ("x-amz-executed-version".into(), "7".into()),
                ("content-length".into(), "10".into()),
            ],
            executed_version: Some("7".into()),
            log_result: Some("bG9n".into()),
            payload: br#"{"echo":1}"#.to_vec(),
            function_error: None,
        };
        assert_eq!(
            serde_json::to_string(&reply.envelope()).expect("json"),
            serde_json::to_string(&json!({
                "ExecutedVersion": "7",
                "LogResult": "bG9n",
                "Payload": {"echo": 1},
                "SdkHttpMetadata": {
                    "AllHttpHeaders": {
                        "Content-Length": ["10"],
                        "Content-Type": ["application/json"],
                        "Date": ["Thu, 01 Jan 2026 00:00:00 GMT"],
                        "X-Amz-Executed-Version": ["7"],
                        "x-amzn-RequestId": ["6f2c-req"]
                    },
                    "HttpHeaders": {
                        "Content-Length": "10",
                        "Content-Type": "application/json",
                        "Date": "Thu, 01 Jan 2026 00:00:00 GMT",
                        "X-Amz-Executed-Version": "7",
                        "x-amzn-RequestId": "6f2c-req"
                    },
                    "HttpStatusCode": 200
                },
                "SdkResponseMetadata": {"RequestId": "6f2c-req"},
                "StatusCode": 200
            }))
            .expect("json")
        );
        // cargo lambda watch sends neither a request id nor an executed version.
        let bare = Reply { http_status: 200, status_code: 200, payload: b"null".to_vec(), ..Reply::default() };
        let envelope = bare.envelope();
        let id = envelope["SdkResponseMetadata"]["RequestId"].as_str().expect("an id").to_string();
        assert_eq!(id.len(), 36);
        assert_eq!(envelope["ExecutedVersion"], "$LATEST");
        assert_eq!(envelope["Payload"], Value::Null);
        assert_eq!(
            envelope["SdkHttpMetadata"]["HttpHeaders"],
            json!({"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": id})
        );
        assert_eq!(envelope["SdkHttpMetadata"]["AllHttpHeaders"]["x-amzn-RequestId"], json!([id]));
    }

    #[test]
    fn header_names_as_aws_spells_them() {
        assert_eq!(header_name("content-type"), "Content-Type");
        assert_eq!(header_name("x-amzn-requestid"), "x-amzn-RequestId");
        assert_eq!(header_name("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(header_name("access-control-allow-credentials"), "Access-Control-Allow-Credentials");
    }

    fn call(function_name: &str) -> InvokeCall {
        InvokeCall {
            function_name: function_name.into(),
            payload: b"{}".to_vec(),
            invocation_type: None,
            qualifier: None,
            client_context: None,
            log_type: None,
            shape: Shape::Envelope,
        }
    }

    fn failed(answer: Answer) -> Failure {
        match answer {
            Answer::Failed(f) => f,
            Answer::Reply(r) => panic!("a reply, not a failure: {r:?}"),
        }
    }

    #[test]
    fn service_errors_from_lambda() {
        let reply = |status: u16, code: &str, message: &str| ErrorReply {
            status,
            code: Some(code.into()),
            message: Some(message.into()),
            body: format!(r#"{{"Type":"User","Message":"{message}"}}"#).into_bytes(),
            headers: vec![("x-amzn-requestid".into(), "req-1".into()), ("x-amzn-errortype".into(), code.into())],
        };
        let message = "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone:$LATEST";
        let f = failed(reply(404, "ResourceNotFoundException", message).answer(&call("gone"), "us-east-1", false));
        assert_eq!(f.error, "Lambda.ResourceNotFoundException");
        assert_eq!(
            f.cause,
            format!(
                "{message} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: req-1; Proxy: null)"
            )
        );
        let f = failed(reply(429, "TooManyRequestsException", "Rate Exceeded.").answer(&call("f"), "us-east-1", false));
        assert_eq!(f.error, "Lambda.TooManyRequestsException");
        let f = failed(reply(500, "ServiceException", "internal").answer(&call("f"), "us-east-1", false));
        assert_eq!(f.error, "Lambda.ServiceException");
        let f = failed(reply(403, "AccessDeniedException", "denied").answer(&call("f"), "us-east-1", false));
        assert_eq!(f.error, "Lambda.AWSLambdaException");
        assert!(
            f.cause.starts_with("denied (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException;")
        );
        // No code at all: named by the status.
        let bare = |status: u16| ErrorReply { status, body: b"oops".to_vec(), ..ErrorReply::default() };
        assert_eq!(failed(bare(429).answer(&call("f"), "us-east-1", false)).error, "Lambda.TooManyRequestsException");
        assert_eq!(failed(bare(502).answer(&call("f"), "us-east-1", false)).error, "Lambda.ServiceException");
        assert_eq!(failed(bare(400).answer(&call("f"), "us-east-1", false)).error, "Lambda.AWSLambdaException");
    }

    #[test]
    fn cargo_lambda_watch_answers() {
        // A function error: HTTP 500 with the error payload, no X-Amz-Function-Error.
        let body = br#"{"errorType":"CustomError","errorMessage":"failed on purpose"}"#.to_vec();
        let reply =
            ErrorReply { status: 500, message: Some("failed on purpose".into()), body, ..ErrorReply::default() };
        let Answer::Reply(reply) = reply.answer(&call("task-probe"), "us-east-1", true) else { panic!("a reply") };
        assert_eq!(
            reply.outcome(Shape::Payload),
            TaskOutcome::Failed(Failure::new(
                "CustomError",
                r#"{"errorType":"CustomError","errorMessage":"failed on purpose"}"#
            ))
        );
        // An unknown function: 404 without an error code.
        let body =
            br#"{"detail":"that function doesn't exist as a binary in your project","title":"Missing function"}"#;
        let missing = ErrorReply { status: 404, body: body.to_vec(), ..ErrorReply::default() };
        let f =
            failed(missing.clone().answer(&call(FUNCTION.replace("task-probe", "gone").as_str()), "us-east-1", true));
        assert_eq!(f.error, "Lambda.ResourceNotFoundException");
        assert!(
            f.cause.starts_with(
                "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone:$LATEST (Service: AWSLambda; \
                 Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "
            ),
            "{}",
            f.cause
        );
        let f = failed(missing.answer(&call("gone"), "eu-west-1", true));
        assert!(
            f.cause.starts_with("Function not found: arn:aws:lambda:eu-west-1:123456789012:function:gone:$LATEST (")
        );
    }

    #[test]
    fn function_names_and_arns() {
        assert_eq!(function_name_of("task-probe"), ("task-probe".into(), None));
        assert_eq!(function_name_of("task-probe:live"), ("task-probe".into(), Some("live".into())));
        assert_eq!(function_name_of(FUNCTION), ("task-probe".into(), None));
        assert_eq!(function_name_of(&format!("{FUNCTION}:7")), ("task-probe".into(), Some("7".into())));
        assert_eq!(function_name_of("123456789012:function:task-probe"), ("task-probe".into(), None));
        assert_eq!(qualified_arn("f", None, "us-east-1"), "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST");
        assert_eq!(
            qualified_arn("f", Some("prod"), "us-east-1"),
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
        );
        assert_eq!(qualified_arn(&format!("{FUNCTION}:3"), None, "us-east-1"), format!("{FUNCTION}:3"));
        assert_eq!(
            qualified_arn("111122223333:function:f", None, "us-west-2"),
            "arn:aws:lambda:us-west-2:111122223333:function:f:$LATEST"
        );
    }

    #[test]
    fn invokes_are_bounded() {
        let mut r = request(FUNCTION, json!({}));
        assert_eq!(invoke_limit(&r), Duration::from_secs(905));
        r.timeout_seconds = Some(1);
        assert_eq!(invoke_limit(&r), Duration::from_secs(6));
        r.timeout_seconds = Some(99_999_999);
        assert_eq!(invoke_limit(&r), Duration::from_secs(905));
    }
}
