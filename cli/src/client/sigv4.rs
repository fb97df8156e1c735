//! SigV4 for requests to a deployed stack: which service and region a host
//! signs for, and the signing itself as a pure function of its inputs.

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;

/// What a request is signed for: the credential scope's region and service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The signing name of the service, e.g. `execute-api`.
    pub service: String,
}

/// Whether requests to `host` are signed: AWS hosts are, local servers are not.
pub fn is_aws_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
}

/// The service an AWS host signs for and the region its name carries, if any:
/// `<id>.execute-api.<region>.amazonaws.com` (and VPC endpoint names with
/// `execute-api.<region>` in them) sign for `execute-api`;
/// `states.<region>.amazonaws.com` is Step Functions itself (`states`).
pub fn service_and_region(host: &str) -> (&'static str, Option<String>) {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let region_at = |i: usize| labels.get(i).filter(|l| **l != "amazonaws").map(|l| l.to_string());
    if let Some(i) = labels.iter().position(|l| *l == "execute-api") {
        return ("execute-api", region_at(i + 1));
    }
    match labels.first() {
        Some(&"states") | Some(&"states-fips") => ("states", region_at(1)),
        _ => ("execute-api", None),
    }
}

/// Signs a request with SigV4 in the `Authorization` header and returns the
/// headers to add to it (`x-amz-date`, `authorization`, and
/// `x-amz-security-token` for temporary credentials). `url` is the full,
/// encoded URL the request goes to; `headers` are the ones it will carry
/// besides `host` (which is signed from `url`), and all of them are signed.
pub fn sign_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &Credentials,
    scope: &Scope,
    time: SystemTime,
) -> anyhow::Result<Vec<(String, String)>> {
    let identity = credentials.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(&scope.region)
        .name(&scope.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .context("incomplete signing parameters")?
        .into();
    let request = SignableRequest::new(method, url, headers.iter().copied(), SignableBody::Bytes(body))
        .with_context(|| format!("cannot sign a request to {url}"))?;
    let (instructions, _signature) =
        sign(request, &params).with_context(|| format!("cannot sign a request to {url}"))?.into_parts();
    Ok(instructions.headers().map(|(name, value)| (name.to_string(), value.to_string())).collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(unix_seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
        headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
    }

    const JAN_1_2026: u64 = 1_767_225_600;

    #[test]
    fn api_gateway_requests_are_signed_for_execute_api_with_every_header() {
        let credentials = Credentials::new("AKID", "SECRET", None, None, "test");
        let scope = Scope { region: "us-east-1".into(), service: "execute-api".into() };
        let body = br#"{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:m:e"}"#;
        let headers =
            [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSStepFunctions.DescribeExecution")];
        let url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/";
        let signed = sign_request("POST", url, &headers, body, &credentials, &scope, at(JAN_1_2026)).unwrap();
        let names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-amz-date", "authorization"]);
        assert_eq!(header(&signed, "x-amz-date"), "20260101T000000Z");
        let authorization = header(&signed, "authorization");
        assert!(authorization.contains("Credential=AKID/20260101/us-east-1/execute-api/aws4_request"));
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
        // Computed once from this implementation and checked against an independent
        // SigV4 implementation (Python hmac/hashlib, same canonical request); it must not drift.
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/execute-api/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
             Signature=6fbc2383812be3b0f7c6e86ef5c01dfd86ec1caf0f134cd01ac602f5821d7bbd"
        );
        // The same inputs sign the same; another body does not.
        let again = sign_request("POST", url, &headers, body, &credentials, &scope, at(JAN_1_2026)).unwrap();
        assert_eq!(again, signed);
        let other = sign_request("POST", url, &headers, b"{}", &credentials, &scope, at(JAN_1_2026)).unwrap();
        assert_ne!(header(&other, "authorization"), authorization);
    }

    #[test]
    fn temporary_credentials_sign_and_send_their_session_token() {
        let credentials = Credentials::new("AKID", "SECRET", Some("TOKEN".into()), None, "test");
        let scope = Scope { region: "eu-west-1".into(), service: "execute-api".into() };
        let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/";
        let signed = sign_request("POST", url, &[], b"{}", &credentials, &scope, at(JAN_1_2026)).unwrap();
        assert_eq!(header(&signed, "x-amz-security-token"), "TOKEN");
        assert!(header(&signed, "authorization").contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    }

    /// The `post-vanilla` case of the AWS SigV4 test suite (aws-signing-test-suite/v4/post-vanilla):
    /// `POST /` to example.amazonaws.com, no body, 2015-08-30T12:36:00Z.
    #[test]
    fn the_aws_post_vanilla_test_vector_signs_as_published() {
        let credentials =
            Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "test");
        let scope = Scope { region: "us-east-1".into(), service: "service".into() };
        let signed =
            sign_request("POST", "https://example.amazonaws.com/", &[], b"", &credentials, &scope, at(1_440_938_160))
                .unwrap();
        assert_eq!(header(&signed, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            header(&signed, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn hosts_name_their_service_and_region() {
        assert!(is_aws_host("abc123.execute-api.us-east-1.amazonaws.com"));
        assert!(is_aws_host("STATES.us-east-1.AmazonAWS.com."));
        assert!(!is_aws_host("127.0.0.1"));
        assert!(!is_aws_host("localhost"));
        assert!(!is_aws_host("api.example.com"));
        assert!(!is_aws_host("amazonaws.com.example.net"));
        assert_eq!(
            service_and_region("abc123.execute-api.us-east-1.amazonaws.com"),
            ("execute-api", Some("us-east-1".into()))
        );
        assert_eq!(
            service_and_region("vpce-0a1b-2c3d.execute-api.eu-central-1.vpce.amazonaws.com"),
            ("execute-api", Some("eu-central-1".into()))
        );
        assert_eq!(service_and_region("states.ap-south-1.amazonaws.com"), ("states", Some("ap-south-1".into())));
        assert_eq!(service_and_region("execute-api.amazonaws.com"), ("execute-api", None));
        assert_eq!(service_and_region("something.amazonaws.com"), ("execute-api", None));
    }
}
