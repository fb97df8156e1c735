//! API Gateway requests to `api::route` and back.

use api::{Api, HttpRequest};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};
use runtime::StateStore;
use runtime::catalog::Catalog;
use runtime::stepper::Carrier;

/// `<scheme>://<domain>/<stage>` of an API Gateway request, when it says: the
/// base of the callback URLs. The scheme is the request's `X-Forwarded-Proto`
/// (API Gateway always sends `https`; the local stack of scripts/stack-local.sh
/// serves plain `http`), `https` without one. A custom domain maps the stage
/// itself, so only `*.amazonaws.com` names get the stage appended.
pub fn base_url(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(c) => {
            let domain = c.domain_name.as_deref()?;
            let scheme = match request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
                Some(proto) if proto.eq_ignore_ascii_case("http") => "http",
                _ => "https",
            };
            Some(match c.stage.as_deref() {
                Some(stage) if domain.ends_with(".amazonaws.com") && !stage.is_empty() => {
                    format!("{scheme}://{domain}/{stage}")
                }
                _ => format!("{scheme}://{domain}"),
            })
        }
        _ => None,
    }
}

/// Answers one API Gateway request.
pub async fn answer<S: StateStore + Catalog, C: Carrier>(
    api: &Api<S, C>,
    request: &Request,
) -> Result<Response<Body>, Error> {
    let http = HttpRequest {
        method: request.method().as_str(),
        path: request.raw_http_path(),
        query: request.uri().query(),
        target: request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()),
        body: request.body().as_ref(),
    };
    let answer = api::route(api, http).await;
    Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type)
        .body(Body::from(answer.body))
        .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use api::ApiConfig;
    use runtime::{Clock, Delivery, MemoryStateStore};
    use serde_json::{Value, json};

    use super::*;

    /// Keeps what the api hands to the stepper.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<Delivery>>>);

    impl Carrier for Kept {
        async fn carry(&self, delivery: Delivery) -> Result<(), String> {
            self.0.lock().map_err(|e| e.to_string())?.push(delivery);
            Ok(())
        }
    }

    fn event(name: &str) -> Request {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("sample event");
        lambda_http::request::from_str(&text).expect("an API Gateway event")
    }

    async fn call(api: &Api<MemoryStateStore, Kept>, name: &str) -> (u16, Value) {
        let response = answer(api, &event(name)).await.expect("response");
        let status = response.status().as_u16();
        (status, serde_json::from_slice(response.body().as_ref()).expect("json"))
    }

    #[tokio::test]
    async fn the_sample_events_drive_the_api() {
        let request = event("api-start-execution.json");
        assert_eq!(base_url(&request).as_deref(), Some("https://abc123.execute-api.us-east-1.amazonaws.com/prod"));
        // Plain HTTP behind a custom-domain-like endpoint (the local stack): no stage, http.
        let mut local: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}/../../events/api-start-execution.json", env!("CARGO_MANIFEST_DIR")))
                .expect("sample event"),
        )
        .expect("json");
        local["headers"]["X-Forwarded-Proto"] = json!("http");
        local["multiValueHeaders"]["X-Forwarded-Proto"] = json!(["http"]);
        local["requestContext"]["domainName"] = json!("127.0.0.1:4010");
        let local = lambda_http::request::from_str(&local.to_string()).expect("an API Gateway event");
        assert_eq!(base_url(&local).as_deref(), Some("http://127.0.0.1:4010"));
        let resources = Some(api::ResourcePolicy {
            supports: aws_adapters::router::supports,
            described: aws_adapters::router::SUPPORTED,
        });
        let config = ApiConfig {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            callback_base_url: base_url(&request),
            resources,
        };
        let kept = Kept::default();
        let api = Api::new(Arc::new(MemoryStateStore::new()), kept.clone(), Clock::Real, config);

        let (status, body) = call(&api, "api-create-state-machine.json").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["stateMachineArn"], json!("arn:aws:states:us-east-1:123456789012:stateMachine:approval"));
        let (status, body) = call(&api, "api-start-execution.json").await;
        assert_eq!(
            (status, &body["executionArn"]),
            (200, &json!("arn:aws:states:us-east-1:123456789012:execution:approval:order-1"))
        );
        let kept: Vec<Delivery> = kept.0.lock().expect("kept").clone();
        assert_eq!(kept, [Delivery::start("arn:aws:states:us-east-1:123456789012:execution:approval:order-1")]);
        let (status, body) = call(&api, "api-describe-execution.json").await;
        assert_eq!((status, &body["status"], &body["input"]), (200, &json!("RUNNING"), &json!(r#"{"orderId":"o-1"}"#)));
        let (status, body) = call(&api, "api-callback-success.json").await;
        assert_eq!((status, &body["__type"]), (403, &json!("InvalidToken")));
    }
}
