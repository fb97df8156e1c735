//! A DynamoDB table as a JSON file: every item in DynamoDB's own JSON shape
//! (`{"pk": {"S": "…"}, "body": {"B": "<base64>"}, …}`), in key order. What
//! the stored-format fixtures are made of: a table written by one release,
//! loaded into DynamoDB Local for a later one to read.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// An item.
pub type Item = HashMap<String, AttributeValue>;

/// One attribute value in DynamoDB JSON.
pub fn value_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": STANDARD.encode(b.as_ref())}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::Ss(items) => json!({"SS": items}),
        AttributeValue::Ns(items) => json!({"NS": items}),
        AttributeValue::L(items) => json!({"L": items.iter().map(value_to_json).collect::<Vec<_>>()}),
        AttributeValue::M(map) => json!({"M": item_to_json(map)}),
        other => panic!("no JSON form for {other:?}"),
    }
}

/// One attribute value from DynamoDB JSON.
pub fn value_from_json(value: &Value) -> AttributeValue {
    let (kind, inner) = value.as_object().and_then(|m| m.iter().next()).expect("a typed attribute value");
    let strings = || inner.as_array().expect("a list").iter().map(|v| v.as_str().expect("text").to_string()).collect();
    match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str().expect("text").to_string()),
        "N" => AttributeValue::N(inner.as_str().expect("a number as text").to_string()),
        "B" => AttributeValue::B(Blob::new(STANDARD.decode(inner.as_str().expect("base64")).expect("base64"))),
        "BOOL" => AttributeValue::Bool(inner.as_bool().expect("a boolean")),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings()),
        "NS" => AttributeValue::Ns(strings()),
        "L" => AttributeValue::L(inner.as_array().expect("a list").iter().map(value_from_json).collect()),
        "M" => AttributeValue::M(item_from_json(inner)),
        other => panic!("unknown attribute type {other}"),
    }
}

/// An item in DynamoDB JSON, its attributes in name order.
pub fn item_to_json(item: &Item) -> Value {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    Value::Object(names.into_iter().map(|n| (n.clone(), value_to_json(&item[n]))).collect::<Map<_, _>>())
}

/// An item from DynamoDB JSON.
pub fn item_from_json(value: &Value) -> Item {
    value.as_object().expect("an item").iter().map(|(n, v)| (n.clone(), value_from_json(v))).collect()
}

/// Every item of `table`, in key order.
pub async fn scan(client: &Client, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client.scan().table_name(table).set_exclusive_start_key(start).send().await.expect("scan");
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    let key = |item: &Item| {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        (text("pk"), text("sk"))
    };
    items.sort_by_key(key);
    items
}

/// Puts every item into `table`.
pub async fn load(client: &Client, table: &str, items: Vec<Item>) {
    for item in items {
        client.put_item().table_name(table).set_item(Some(item)).send().await.expect("put");
    }
}
