//! DynamoDB Task resources against DynamoDB Local: the optimized integration
//! and `aws-sdk:dynamodb`, their results and their error names.

use aws_adapters::DynamoTaskInvoker;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use serde_json::{Value, json};
use switchyard_tests::dynamo::client;
use switchyard_tests::run_with;

/// A fresh table keyed by `id`, and an invoker on DynamoDB Local.
fn setup(name: &str) -> (String, DynamoTaskInvoker) {
    let table = format!("tasks-{name}-{}", std::process::id());
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let client = tokio.block_on(async {
        let c = client().await;
        c.create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().expect("key"))
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("create table");
        c
    });
    (table, DynamoTaskInvoker::new(client))
}

fn task(resource: &str, parameters: Value, extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": resource, "Parameters": parameters});
    for (k, v) in extra.as_object().into_iter().flatten() {
        state[k] = v.clone();
    }
    state
}

#[test]
fn optimized_put_get_update_delete() {
    let (table, invoker) = setup("optimized");
    let def = json!({"StartAt": "Put", "States": {
        "Put": task("arn:aws:states:::dynamodb:putItem",
            json!({"TableName": table, "Item": {"id": {"S.$": "$.id"}, "total": {"N": "42"}, "tags": {"SS": ["a", "b"]}}}),
            json!({"ResultPath": null, "Next": "Get"})),
        "Get": task("arn:aws:states:::dynamodb:getItem",
            json!({"TableName": table, "Key": {"id": {"S.$": "$.id"}}, "ConsistentRead": true}),
            json!({"ResultSelector": {"item.$": "$.Item", "status.$": "$.SdkHttpMetadata.HttpStatusCode"}, "ResultPath": "$.got", "Next": "Update"})),
        "Update": task("arn:aws:states:::dynamodb:updateItem",
            json!({"TableName": table, "Key": {"id": {"S.$": "$.id"}}, "UpdateExpression": "SET #t = #t + :one",
                   "ExpressionAttributeNames": {"#t": "total"}, "ExpressionAttributeValues": {":one": {"N": "1"}},
                   "ReturnValues": "UPDATED_NEW"}),
            json!({"ResultSelector": {"attributes.$": "$.Attributes"}, "ResultPath": "$.updated", "Next": "Delete"})),
        "Delete": task("arn:aws:states:::dynamodb:deleteItem",
            json!({"TableName": table, "Key": {"id": {"S.$": "$.id"}}, "ReturnValues": "ALL_OLD"}),
            json!({"ResultSelector": {"old.$": "$.Attributes.total"}, "ResultPath": "$.deleted", "End": true}))
    }});
    let out = run_with(&def, json!({"id": "order-1"}), invoker);
    assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
    assert_eq!(
        out.output(),
        json!({"id": "order-1",
               "got": {"item": {"id": {"S": "order-1"}, "tags": {"SS": ["a", "b"]}, "total": {"N": "42"}}, "status": 200},
               "updated": {"attributes": {"total": {"N": "43"}}},
               "deleted": {"old": {"N": "43"}}})
    );
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

/// A conditional put that fails twice: once per integration, each caught by its own error name.
#[test]
fn conditional_check_failures_are_named_per_integration() {
    let (table, invoker) = setup("errors");
    let put =
        json!({"TableName": table, "Item": {"id": {"S": "x"}}, "ConditionExpression": "attribute_not_exists(id)"});
    let def = json!({"StartAt": "First", "States": {
        "First": task("arn:aws:states:::dynamodb:putItem", put.clone(), json!({"ResultPath": null, "Next": "Again"})),
        "Again": task("arn:aws:states:::dynamodb:putItem", put.clone(), json!({
            "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"], "Next": "Wrong"},
                      {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.optimized", "Next": "Sdk"}],
            "Next": "Wrong"})),
        "Sdk": task("arn:aws:states:::aws-sdk:dynamodb:putItem", put.clone(), json!({
            "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "Next": "Wrong"},
                      {"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"], "ResultPath": "$.sdk", "Next": "Done"}],
            "Next": "Wrong"})),
        "Wrong": {"Type": "Fail", "Error": "WrongPath"},
        "Done": {"Type": "Succeed"}
    }});
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
    let output = out.output();
    assert_eq!(output["optimized"]["Error"], json!("DynamoDB.ConditionalCheckFailedException"));
    assert_eq!(output["sdk"]["Error"], json!("DynamoDb.ConditionalCheckFailedException"));
    let cause = output["optimized"]["Cause"].as_str().expect("cause");
    assert!(
        cause.starts_with("The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "),
        "{cause}"
    );
    let cause = output["sdk"]["Cause"].as_str().expect("cause");
    assert!(
        cause.starts_with("The conditional request failed (Service: DynamoDb, Status Code: 400, Request ID: "),
        "{cause}"
    );
}

#[test]
fn sdk_query_and_a_missing_table() {
    let (table, invoker) = setup("query");
    let def = json!({"StartAt": "Put", "States": {
        "Put": task("arn:aws:states:::aws-sdk:dynamodb:putItem",
            json!({"TableName": table, "Item": {"id": {"S": "k"}, "v": {"BOOL": true}}}), json!({"ResultPath": null, "Next": "Query"})),
        "Query": task("arn:aws:states:::aws-sdk:dynamodb:query",
            json!({"TableName": table, "KeyConditionExpression": "id = :k", "ExpressionAttributeValues": {":k": {"S": "k"}}}),
            json!({"ResultPath": "$.found", "Next": "Missing"})),
        "Missing": task("arn:aws:states:::aws-sdk:dynamodb:getItem",
            json!({"TableName": "no-such-table", "Key": {"id": {"S": "k"}}}), json!({"End": true}))
    }});
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "DynamoDb.ResourceNotFoundException");
    let found = out.events_of("TaskSucceeded")[1]["taskSucceededEventDetails"]["output"].clone();
    let found: Value = serde_json::from_str(found.as_str().expect("text")).expect("json");
    assert_eq!(found, json!({"Count": 1, "Items": [{"id": {"S": "k"}, "v": {"BOOL": true}}], "ScannedCount": 1}));
}
