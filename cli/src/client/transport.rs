//! One Step Functions API call over HTTP: `POST <endpoint>/` with the action
//! in `X-Amz-Target` and JSON both ways, SigV4-signed for AWS hosts.
//!
//! The client is hyper-util's legacy client with hyper-rustls: both are in the
//! tree already through the AWS SDK (reqwest would add a second HTTP client
//! and TLS setup to build). TLS uses rustls on aws-lc-rs, the provider the SDK
//! enables, with the platform's root certificates; plain `http://` endpoints
//! (`switchyard serve`) never load them.

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Uri, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::sigv4::{self, Scope};

const AMZ_JSON: &str = "application/x-amz-json-1.0";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(70);

/// An error answer of the API: `{"__type": …, "message": …}` (exit code 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The error shape, e.g. `ExecutionDoesNotExist`.
    pub kind: String,
    /// The message.
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ApiFailure {}

/// Where requests go: the endpoint URL with its path (an API Gateway stage
/// like `/prod/`) kept and ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL requests are posted to.
    pub url: Uri,
}

impl Endpoint {
    /// Parses `--endpoint`: an `http://` or `https://` URL without query.
    pub fn parse(text: &str) -> anyhow::Result<Endpoint> {
        let uri: Uri = text.trim().parse().with_context(|| format!("--endpoint {text:?} is not a URL"))?;
        let scheme = uri.scheme_str().unwrap_or_default();
        if scheme != "http" && scheme != "https" {
            bail!("--endpoint {text:?} must start with http:// or https://");
        }
        let Some(authority) = uri.authority().cloned() else {
            bail!("--endpoint {text:?} has no host");
        };
        if uri.query().is_some() {
            bail!("--endpoint {text:?} must not have a query string");
        }
        let path = uri.path();
        let path = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
        let url = Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query(path)
            .build()
            .with_context(|| format!("--endpoint {text:?} is not a URL"))?;
        Ok(Endpoint { url })
    }

    fn host(&self) -> &str {
        self.url.host().unwrap_or_default()
    }

    fn is_tls(&self) -> bool {
        self.url.scheme_str() == Some("https")
    }
}

enum Connection {
    Plain(HttpClient<HttpConnector, Full<Bytes>>),
    Tls(HttpClient<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

struct Signer {
    credentials: Credentials,
    scope: Scope,
}

/// A client of one endpoint.
pub struct Client {
    endpoint: Endpoint,
    connection: Connection,
    signer: Option<Signer>,
}

impl Client {
    /// A client of `endpoint`; for AWS hosts — or any host when `sign` names
    /// the service to sign for — it loads credentials from the default chain
    /// and signs for the region of the host name, `region` overriding it
    /// (else the region of the AWS configuration).
    pub async fn new(endpoint: Endpoint, region: Option<String>, sign: Option<String>) -> anyhow::Result<Client> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let builder = HttpClient::builder(TokioExecutor::new());
        let connection = if endpoint.is_tls() {
            http.enforce_http(false);
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
                .context("cannot load the platform's root certificates")?
                .https_only()
                .enable_http1()
                .wrap_connector(http);
            Connection::Tls(builder.build(https))
        } else {
            Connection::Plain(builder.build(http))
        };
        let signer = if sign.is_some() || sigv4::is_aws_host(endpoint.host()) {
            Some(signer(&endpoint, region, sign).await?)
        } else {
            None
        };
        Ok(Client { endpoint, connection, signer })
    }

    /// Calls `action` with `request`; an error answer is an [`ApiFailure`].
    pub async fn call(&self, action: &str, request: &Value) -> anyhow::Result<Value> {
        let url = self.endpoint.url.to_string();
        let body = serde_json::to_vec(request)?;
        let target = format!("AWSStepFunctions.{action}");
        let headers = [(header::CONTENT_TYPE.as_str(), AMZ_JSON), ("x-amz-target", target.as_str())];
        let signature = match &self.signer {
            Some(s) => sigv4::sign_request("POST", &url, &headers, &body, &s.credentials, &s.scope, SystemTime::now())?,
            None => Vec::new(),
        };
        let mut builder = Request::post(self.endpoint.url.clone())
            .header(header::USER_AGENT, concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .header(header::ACCEPT, AMZ_JSON);
        for (name, value) in headers.iter().copied().chain(signature.iter().map(|(n, v)| (n.as_str(), v.as_str()))) {
            builder = builder.header(name, value);
        }
        let request = builder.body(Full::new(Bytes::from(body)))?;
        let exchange = async {
            let response = match &self.connection {
                Connection::Plain(client) => client.request(request).await,
                Connection::Tls(client) => client.request(request).await,
            }
            .with_context(|| format!("cannot reach {url}"))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.with_context(|| format!("cannot read the answer of {url}"))?.to_bytes();
            anyhow::Ok((parts, body))
        };
        let (parts, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .with_context(|| format!("{url} did not answer within {} s", REQUEST_TIMEOUT.as_secs()))??;
        if parts.status.is_success() {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Object(Default::default()));
            }
            return serde_json::from_slice(&body)
                .with_context(|| format!("{url} answered {action} with a body that is not JSON"));
        }
        let error_type = parts.headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok());
        Err(failure(parts.status.as_u16(), error_type, &body).into())
    }
}

async fn signer(endpoint: &Endpoint, region: Option<String>, sign: Option<String>) -> anyhow::Result<Signer> {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let (host_service, host_region) = sigv4::service_and_region(endpoint.host());
    let service = sign.unwrap_or_else(|| host_service.to_string());
    let Some(region) = region.or(host_region).or_else(|| config.region().map(|r| r.to_string())) else {
        bail!("cannot tell the region to sign requests to {} for: give --region", endpoint.host());
    };
    let provider = config.credentials_provider().context("no AWS credentials provider is configured")?;
    let credentials = provider
        .provide_credentials()
        .await
        .with_context(|| format!("cannot load AWS credentials to sign requests to {}", endpoint.host()))?;
    Ok(Signer { credentials, scope: Scope { region, service } })
}

/// Reads an error answer: the awsJson `__type` (without a `namespace#`
/// prefix or a `:details` suffix) and `message`; API Gateway's own errors
/// (`{"message": "Forbidden"}`) name their type in `x-amzn-ErrorType`.
fn failure(status: u16, error_type: Option<&str>, body: &[u8]) -> ApiFailure {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(Value::as_str).map(str::to_string);
    let kind = field("__type").or_else(|| error_type.map(str::to_string));
    let kind = match kind {
        Some(kind) => {
            let kind = kind.rsplit('#').next().unwrap_or_default();
            kind.split(':').next().unwrap_or_default().to_string()
        }
        None => format!("HTTP {status}"),
    };
    let message = field("message").or_else(|| field("Message")).unwrap_or_else(|| match &json {
        Some(_) => String::new(),
        None => String::from_utf8_lossy(body).trim().chars().take(500).collect(),
    });
    ApiFailure { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_their_path_and_end_in_a_slash() {
        let url = |text: &str| Endpoint::parse(text).map(|e| e.url.to_string()).map_err(|e| format!("{e:#}"));
        assert_eq!(url("http://127.0.0.1:8083"), Ok("http://127.0.0.1:8083/".into()));
        assert_eq!(url("http://localhost:8083/"), Ok("http://localhost:8083/".into()));
        assert_eq!(
            url("https://abc.execute-api.us-east-1.amazonaws.com/prod"),
            Ok("https://abc.execute-api.us-east-1.amazonaws.com/prod/".into())
        );
        assert_eq!(
            url("https://abc.execute-api.us-east-1.amazonaws.com/prod/"),
            Ok("https://abc.execute-api.us-east-1.amazonaws.com/prod/".into())
        );
        assert_eq!(
            url("127.0.0.1:8083"),
            Err("--endpoint \"127.0.0.1:8083\" must start with http:// or https://".into())
        );
        assert_eq!(
            url("http://127.0.0.1:8083/?a=b"),
            Err("--endpoint \"http://127.0.0.1:8083/?a=b\" must not have a query string".into())
        );
    }

    #[test]
    fn error_answers_read_type_and_message() {
        let body = br#"{"__type":"ExecutionDoesNotExist","message":"Execution Does Not Exist: 'x'"}"#;
        assert_eq!(
            failure(400, None, body),
            ApiFailure { kind: "ExecutionDoesNotExist".into(), message: "Execution Does Not Exist: 'x'".into() }
        );
        let body = br#"{"__type":"com.amazonaws.swf.service.v2.model#InvalidArn","Message":"Invalid Arn"}"#;
        assert_eq!(failure(400, None, body), ApiFailure { kind: "InvalidArn".into(), message: "Invalid Arn".into() });
        let body = br#"{"message":"Missing Authentication Token"}"#;
        assert_eq!(
            failure(403, Some("MissingAuthenticationTokenException"), body),
            ApiFailure {
                kind: "MissingAuthenticationTokenException".into(),
                message: "Missing Authentication Token".into()
            }
        );
        assert_eq!(
            failure(502, None, b"Bad Gateway\n"),
            ApiFailure { kind: "HTTP 502".into(), message: "Bad Gateway".into() }
        );
    }
}
