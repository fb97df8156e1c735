//! DynamoDB Task resources: the optimized integration
//! (`arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem`) and
//! the AWS SDK integration (`arn:aws:states:::aws-sdk:dynamodb:<action>` for
//! getItem, putItem, updateItem, deleteItem, query and scan).
//!
//! Parameters are the DynamoDB API's members (PascalCase, typed attribute
//! values such as `{"S": "x"}`); results are its response members. Errors are
//! named as Step Functions names them, which differs by integration:
//! `DynamoDB.<Exception>` for the optimized one (SDK v1 spelling), and
//! `DynamoDb.<Exception>` for `aws-sdk:dynamodb` (SDK v2 spelling).
//!
//! The JSON ↔ `AttributeValue` conversion is written here: it is the exact
//! wire shape the Parameters use, which the SDK's types do not read from JSON.

use std::collections::HashMap;

use asl::Failure;
use asl::resource::{Pattern, Resource};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Select};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use engine::{ExecutionInfo, TaskOutcome, TaskRequest};
use runtime::TaskInvoker;
use serde_json::{Map, Value, json};

/// The DynamoDB task invoker.
#[derive(Clone)]
pub struct DynamoTaskInvoker {
    client: Client,
}

/// Which integration a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// `dynamodb:<action>`.
    Optimized,
    /// `aws-sdk:dynamodb:<action>`.
    Sdk,
}

impl Flavour {
    fn of(resource: &Resource) -> Option<(Flavour, &str)> {
        match resource {
            Resource::Integration { service, action, pattern: Pattern::RequestResponse, .. } => {
                match service.as_str() {
                    "dynamodb" => Some((Flavour::Optimized, action)),
                    "aws-sdk:dynamodb" => Some((Flavour::Sdk, action)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The error name of a DynamoDB exception `code`.
    fn error(self, code: &str) -> String {
        match self {
            Flavour::Optimized => format!("DynamoDB.{code}"),
            Flavour::Sdk => format!("DynamoDb.{code}"),
        }
    }

    /// The cause of a service error, as Step Functions words it.
    fn cause(self, message: &str, code: &str, status: u16, request_id: &str) -> String {
        match self {
            Flavour::Optimized => format!(
                "{message} (Service: AmazonDynamoDBv2; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
            ),
            Flavour::Sdk => format!("{message} (Service: DynamoDb, Status Code: {status}, Request ID: {request_id})"),
        }
    }

    /// The error of a request that failed without a DynamoDB answer.
    fn client_error(self) -> String {
        match self {
            Flavour::Optimized => "DynamoDB.AmazonDynamoDBException".to_string(),
            Flavour::Sdk => "DynamoDb.DynamoDbException".to_string(),
        }
    }
}

/// Whether this invoker runs `resource`.
pub fn handles(resource: &Resource) -> bool {
    match Flavour::of(resource) {
        Some((Flavour::Optimized, action)) => matches!(action, "getItem" | "putItem" | "updateItem" | "deleteItem"),
        Some((Flavour::Sdk, action)) => {
            matches!(action, "getItem" | "putItem" | "updateItem" | "deleteItem" | "query" | "scan")
        }
        None => false,
    }
}

/// A typed attribute value from its JSON wire form.
pub fn attribute_from_json(value: &Value) -> Result<AttributeValue, String> {
    let object = value.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        format!(
            "an attribute value must be an object with one type key (S, N, B, BOOL, NULL, M, L, SS, NS, BS): {value}"
        )
    })?;
    let (kind, inner) = object.iter().next().ok_or("an empty attribute value")?;
    let text = |v: &Value| v.as_str().map(str::to_string).ok_or_else(|| format!("{kind} takes a string: {v}"));
    let texts = |v: &Value| -> Result<Vec<String>, String> {
        v.as_array().ok_or_else(|| format!("{kind} takes a list of strings: {v}"))?.iter().map(text).collect()
    };
    let blob = |v: &Value| -> Result<Blob, String> {
        STANDARD.decode(text(v)?).map(Blob::new).map_err(|e| format!("{kind} takes base64: {e}"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        // Numbers are strings on the wire; a JSON number is accepted too.
        "N" => AttributeValue::N(match inner {
            Value::Number(n) => n.to_string(),
            other => text(other)?,
        }),
        "B" => AttributeValue::B(blob(inner)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or_else(|| format!("BOOL takes true or false: {inner}"))?),
        "NULL" => AttributeValue::Null(inner.as_bool().ok_or_else(|| format!("NULL takes true: {inner}"))?),
        "M" => AttributeValue::M(item_from_json(inner)?),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or_else(|| format!("L takes a list: {inner}"))?
                .iter()
                .map(attribute_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "SS" => AttributeValue::Ss(texts(inner)?),
        "NS" => AttributeValue::Ns(texts(inner)?),
        "BS" => AttributeValue::Bs(
            inner
                .as_array()
                .ok_or_else(|| format!("BS takes a list: {inner}"))?
                .iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown attribute type {other}")),
    })
}

/// A map of typed attribute values (an item, a key) from JSON.
pub fn item_from_json(value: &Value) -> Result<HashMap<String, AttributeValue>, String> {
    let object = value.as_object().ok_or_else(|| format!("expected a map of attribute values: {value}"))?;
    object.iter().map(|(k, v)| Ok((k.clone(), attribute_from_json(v)?))).collect()
}

/// The JSON wire form of a typed attribute value.
pub fn attribute_to_json(value: &AttributeValue) -> Value {
    let blob = |b: &Blob| Value::String(STANDARD.encode(b.as_ref()));
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": blob(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::M(m) => json!({"M": item_to_json(m)}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute_to_json).collect::<Vec<_>>()}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(blob).collect::<Vec<_>>()}),
        _ => Value::Null,
    }
}

/// The JSON wire form of an item.
pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    let mut keys: Vec<&String> = item.keys().collect();
    keys.sort();
    Value::Object(keys.into_iter().map(|k| (k.clone(), attribute_to_json(&item[k]))).collect())
}

/// The Parameters of one request, with every member accounted for.
struct Params<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    fn new(input: &'a Value, allowed: &[&str]) -> Result<Self, String> {
        let map = input.as_object().ok_or("Parameters must be an object of DynamoDB request members")?;
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("the member '{unknown}' is not supported for this DynamoDB action"));
        }
        Ok(Params { map })
    }

    fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{name} must be a string: {other}")),
        }
    }

    fn required(&self, name: &str) -> Result<String, String> {
        self.string(name)?.ok_or_else(|| format!("the member '{name}' is required"))
    }

    fn item(&self, name: &str) -> Result<Option<HashMap<String, AttributeValue>>, String> {
        self.map.get(name).map(item_from_json).transpose()
    }

    fn names(&self) -> Result<Option<HashMap<String, String>>, String> {
        match self.map.get("ExpressionAttributeNames") {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    Ok((k.clone(), v.as_str().ok_or("ExpressionAttributeNames values are strings")?.to_string()))
                })
                .collect::<Result<_, String>>()
                .map(Some),
            Some(other) => Err(format!("ExpressionAttributeNames must be an object: {other}")),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, String> {
        self.map.get(name).map(|v| v.as_bool().ok_or_else(|| format!("{name} must be true or false"))).transpose()
    }

    fn integer(&self, name: &str) -> Result<Option<i32>, String> {
        self.map
            .get(name)
            .map(|v| v.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| format!("{name} must be an integer")))
            .transpose()
    }
}

const COMMON: [&str; 4] = ["TableName", "ExpressionAttributeNames", "ReturnConsumedCapacity", "ConditionExpression"];

fn allowed(extra: &[&'static str]) -> Vec<&'static str> {
    COMMON.iter().copied().chain(extra.iter().copied()).collect()
}

/// What one call answered: the response members, or a DynamoDB error.
enum Answer {
    Ok(Map<String, Value>),
    ServiceError { code: String, message: String, status: u16, request_id: String },
    ClientError(String),
}

fn service_error<E>(e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> Answer
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_dynamodb::error::SdkError;
    match &e {
        SdkError::ServiceError(s) => {
            let meta = s.err().meta();
            Answer::ServiceError {
                code: meta.code().unwrap_or("DynamoDbException").to_string(),
                message: meta.message().unwrap_or_default().to_string(),
                status: s.raw().status().as_u16(),
                request_id: meta.extra("aws_request_id").unwrap_or_default().to_string(),
            }
        }
        _ => Answer::ClientError(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()),
    }
}

fn put_items(out: &mut Map<String, Value>, name: &str, item: Option<&HashMap<String, AttributeValue>>) {
    if let Some(item) = item {
        out.insert(name.to_string(), item_to_json(item));
    }
}

fn return_values(p: &Params<'_>) -> Result<Option<ReturnValue>, String> {
    Ok(p.string("ReturnValues")?.map(|v| ReturnValue::from(v.as_str())))
}

impl DynamoTaskInvoker {
    /// An invoker calling DynamoDB with `client`.
    pub fn new(client: Client) -> Self {
        DynamoTaskInvoker { client }
    }

    async fn call(&self, action: &str, input: &Value) -> Result<Answer, String> {
        let c = &self.client;
        Ok(match action {
            "getItem" => {
                let p = Params::new(
                    input,
                    &allowed(&["Key", "ConsistentRead", "ProjectionExpression", "AttributesToGet"]),
                )?;
                if p.map.contains_key("ConditionExpression") || p.map.contains_key("AttributesToGet") {
                    return Err(
                        "GetItem takes no ConditionExpression; AttributesToGet is legacy: use ProjectionExpression"
                            .into(),
                    );
                }
                match c
                    .get_item()
                    .table_name(p.required("TableName")?)
                    .set_key(p.item("Key")?)
                    .set_consistent_read(p.boolean("ConsistentRead")?)
                    .set_projection_expression(p.string("ProjectionExpression")?)
                    .set_expression_attribute_names(p.names()?)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let mut m = Map::new();
                        put_items(&mut m, "Item", out.item());
                        Answer::Ok(m)
                    }
                    Err(e) => service_error(e),
                }
            }
            "putItem" => {
                let p = Params::new(input, &allowed(&["Item", "ExpressionAttributeValues", "ReturnValues"]))?;
                match c
                    .put_item()
                    .table_name(p.required("TableName")?)
                    .set_item(p.item("Item")?)
                    .set_condition_expression(p.string("ConditionExpression")?)
                    .set_expression_attribute_names(p.names()?)
                    .set_expression_attribute_values(p.item("ExpressionAttributeValues")?)
                    .set_return_values(return_values(&p)?)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let mut m = Map::new();
                        put_items(&mut m, "Attributes", out.attributes.as_ref());
                        Answer::Ok(m)
                    }
                    Err(e) => service_error(e),
                }
            }
            "updateItem" => {
                let p = Params::new(
                    input,
                    &allowed(&["Key", "UpdateExpression", "ExpressionAttributeValues", "ReturnValues"]),
                )?;
                match c
                    .update_item()
                    .table_name(p.required("TableName")?)
                    .set_key(p.item("Key")?)
                    .set_update_expression(p.string("UpdateExpression")?)
                    .set_condition_expression(p.string("ConditionExpression")?)
                    .set_expression_attribute_names(p.names()?)
                    .set_expression_attribute_values(p.item("ExpressionAttributeValues")?)
                    .set_return_values(return_values(&p)?)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let mut m = Map::new();
                        put_items(&mut m, "Attributes", out.attributes.as_ref());
                        Answer::Ok(m)
                    }
                    Err(e) => service_error(e),
                }
            }
            "deleteItem" => {
                let p = Params::new(input, &allowed(&["Key", "ExpressionAttributeValues", "ReturnValues"]))?;
                match c
                    .delete_item()
                    .table_name(p.required("TableName")?)
                    .set_key(p.item("Key")?)
                    .set_condition_expression(p.string("ConditionExpression")?)
                    .set_expression_attribute_names(p.names()?)
                    .set_expression_attribute_values(p.item("ExpressionAttributeValues")?)
                    .set_return_values(return_values(&p)?)
                    .send()
                    .await
                {
                    Ok(out) => {
                        let mut m = Map::new();
                        put_items(&mut m, "Attributes", out.attributes.as_ref());
                        Answer::Ok(m)
                    }
                    Err(e) => service_error(e),
                }
            }
            "query" | "scan" => {
                let members = [
                    "IndexName",
                    "KeyConditionExpression",
                    "FilterExpression",
                    "ProjectionExpression",
                    "ExpressionAttributeValues",
                    "Limit",
                    "ExclusiveStartKey",
                    "ConsistentRead",
                    "ScanIndexForward",
                    "Select",
                ];
                let p = Params::new(input, &allowed(&members))?;
                if p.map.contains_key("ConditionExpression") {
                    return Err(format!("{action} takes no ConditionExpression"));
                }
                let select = p.string("Select")?.map(|s| Select::from(s.as_str()));
                let answer = if action == "query" {
                    c.query()
                        .table_name(p.required("TableName")?)
                        .set_index_name(p.string("IndexName")?)
                        .set_key_condition_expression(p.string("KeyConditionExpression")?)
                        .set_filter_expression(p.string("FilterExpression")?)
                        .set_projection_expression(p.string("ProjectionExpression")?)
                        .set_expression_attribute_names(p.names()?)
                        .set_expression_attribute_values(p.item("ExpressionAttributeValues")?)
                        .set_limit(p.integer("Limit")?)
                        .set_exclusive_start_key(p.item("ExclusiveStartKey")?)
                        .set_consistent_read(p.boolean("ConsistentRead")?)
                        .set_scan_index_forward(p.boolean("ScanIndexForward")?)
                        .set_select(select)
                        .send()
                        .await
                        .map(|o| (o.items, o.count, o.scanned_count, o.last_evaluated_key))
                        .map_err(service_error)
                } else {
                    if p.map.contains_key("KeyConditionExpression") || p.map.contains_key("ScanIndexForward") {
                        return Err("scan takes no KeyConditionExpression or ScanIndexForward".into());
                    }
                    c.scan()
                        .table_name(p.required("TableName")?)
                        .set_index_name(p.string("IndexName")?)
                        .set_filter_expression(p.string("FilterExpression")?)
                        .set_projection_expression(p.string("ProjectionExpression")?)
                        .set_expression_attribute_names(p.names()?)
                        .set_expression_attribute_values(p.item("ExpressionAttributeValues")?)
                        .set_limit(p.integer("Limit")?)
                        .set_exclusive_start_key(p.item("ExclusiveStartKey")?)
                        .set_consistent_read(p.boolean("ConsistentRead")?)
                        .set_select(select)
                        .send()
                        .await
                        .map(|o| (o.items, o.count, o.scanned_count, o.last_evaluated_key))
                        .map_err(service_error)
                };
                match answer {
                    Ok((items, count, scanned, last)) => {
                        let mut m = Map::new();
                        m.insert("Count".into(), Value::from(count));
                        if let Some(items) = items {
                            m.insert("Items".into(), Value::Array(items.iter().map(item_to_json).collect()));
                        }
                        put_items(&mut m, "LastEvaluatedKey", last.as_ref());
                        m.insert("ScannedCount".into(), Value::from(scanned));
                        Answer::Ok(m)
                    }
                    Err(answer) => answer,
                }
            }
            other => return Err(format!("the DynamoDB action '{other}' is not supported")),
        })
    }
}

/// The metadata the optimized integrations add to a result.
fn sdk_metadata(m: &mut Map<String, Value>) {
    let request_id = uuid::Uuid::new_v4().to_string().to_uppercase().replace('-', "");
    m.insert(
        "SdkHttpMetadata".into(),
        json!({"AllHttpHeaders": {"Content-Type": ["application/x-amz-json-1.0"], "x-amzn-RequestId": [request_id]},
               "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id},
               "HttpStatusCode": 200}),
    );
    m.insert("SdkResponseMetadata".into(), json!({"RequestId": request_id}));
}

impl TaskInvoker for DynamoTaskInvoker {
    async fn invoke(&self, _execution: &ExecutionInfo, request: &TaskRequest) -> TaskOutcome {
        let Some((flavour, action)) = Flavour::of(&request.resource).filter(|_| handles(&request.resource)) else {
            return TaskOutcome::Failed(runtime::invoker::no_invoker_failure(request));
        };
        match self.call(action, &request.input).await {
            Ok(Answer::Ok(mut m)) => {
                if flavour == Flavour::Optimized {
                    sdk_metadata(&mut m);
                }
                TaskOutcome::Succeeded(Value::Object(m))
            }
            Ok(Answer::ServiceError { code, message, status, request_id }) => TaskOutcome::Failed(Failure::new(
                flavour.error(&code),
                flavour.cause(&message, &code, status, &request_id),
            )),
            Ok(Answer::ClientError(message)) => TaskOutcome::Failed(Failure::new(flavour.client_error(), message)),
            // Parameters DynamoDB would refuse, refused before sending: the same error names.
            Err(message) => TaskOutcome::Failed(Failure::new(
                flavour.error("ValidationException"),
                flavour.cause(&message, "ValidationException", 400, "none"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_round_trip() {
        let item = json!({"pk": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "AAE="}, "t": {"BOOL": true},
            "z": {"NULL": true}, "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1"]}, "bs": {"BS": ["AA=="]}});
        let typed = item_from_json(&item).expect("valid");
        assert_eq!(typed["b"], AttributeValue::B(Blob::new(vec![0, 1])));
        assert_eq!(item_to_json(&typed), item);
        assert_eq!(attribute_from_json(&json!({"N": 3})), Ok(AttributeValue::N("3".into())));
        assert!(attribute_from_json(&json!({"S": "a", "N": "1"})).is_err());
        assert!(attribute_from_json(&json!({"X": "a"})).is_err());
    }

    #[test]
    fn error_names_differ_by_integration() {
        assert_eq!(
            Flavour::Optimized.error("ConditionalCheckFailedException"),
            "DynamoDB.ConditionalCheckFailedException"
        );
        assert_eq!(Flavour::Sdk.error("ConditionalCheckFailedException"), "DynamoDb.ConditionalCheckFailedException");
        assert_eq!(
            Flavour::Sdk.cause("The conditional request failed", "ConditionalCheckFailedException", 400, "R1"),
            "The conditional request failed (Service: DynamoDb, Status Code: 400, Request ID: R1)"
        );
    }

    #[test]
    fn handled_resources() {
        let r = |text: &str| Resource::parse(text).expect("a resource");
        assert!(handles(&r("arn:aws:states:::dynamodb:putItem")));
        assert!(handles(&r("arn:aws:states:::aws-sdk:dynamodb:query")));
        assert!(!handles(&r("arn:aws:states:::dynamodb:query")));
        assert!(!handles(&r("arn:aws:states:::dynamodb:putItem.waitForTaskToken")));
        assert!(!handles(&r("arn:aws:states:::lambda:invoke")));
    }
}
