//! The catalog on DynamoDB: state machines and execution listings, in the
//! same table as the executions.
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `EX#<state machine arn>` | `MACHINE` | the state machine (definition text inline, or as a payload when large); `gsi1pk = MACHINES`, `gsi1sk = <arn>` |
//! | `EX#<execution arn>` | `SUMMARY` | status, dates, name; `gsi1pk = EXECUTIONS#<state machine arn>`, `gsi1sk = <start ms, 15 digits>#<name>` |
//!
//! Listings query the `gsi1` index (eventually consistent, as Step
//! Functions' own listings are); a page token is the index's
//! LastEvaluatedKey, base64 of its JSON.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use engine::RunStatus;
use runtime::StoreError;
use runtime::catalog::{Catalog, ExecutionListing, Page, StateMachine};

use crate::dynamo::{DynamoStateStore, backend, corrupt, get_n, get_s, pk, s, status_of};

/// The name of the listing index.
pub const INDEX: &str = "gsi1";

const MACHINE_SK: &str = "MACHINE";
const MACHINES: &str = "MACHINES";

/// The index partition of a state machine's executions.
pub(crate) fn executions_partition(machine_arn: &str) -> String {
    format!("EXECUTIONS#{machine_arn}")
}

fn encode_token(key: &HashMap<String, AttributeValue>) -> Result<String, StoreError> {
    let mut plain = serde_json::Map::new();
    for (name, value) in key {
        let text = value.as_s().map_err(|_| corrupt("a non-string key attribute"))?;
        plain.insert(name.clone(), serde_json::Value::String(text.clone()));
    }
    Ok(URL_SAFE_NO_PAD.encode(serde_json::Value::Object(plain).to_string()))
}

/// The LastEvaluatedKey in a page token; `InvalidToken` is the caller's to say.
fn decode_token(token: &str) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let invalid = || StoreError::InvalidToken(token.to_string());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let object = value.as_object().ok_or_else(invalid)?;
    let mut key = HashMap::new();
    for (name, value) in object {
        key.insert(name.clone(), s(value.as_str().ok_or_else(invalid)?));
    }
    Ok(key)
}

impl DynamoStateStore {
    async fn machine_item(&self, machine: &StateMachine) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(pk(&machine.arn)));
        item.insert("sk".to_string(), s(MACHINE_SK));
        item.insert("gsi1pk".to_string(), s(MACHINES));
        item.insert("gsi1sk".to_string(), s(&machine.arn));
        item.insert("name".to_string(), s(&machine.name));
        item.insert("roleArn".to_string(), s(&machine.role_arn));
        item.insert("type".to_string(), s(&machine.machine_type));
        item.insert("created".to_string(), AttributeValue::N(machine.created_ms.to_string()));
        if let Some(updated) = machine.updated_ms {
            item.insert("updated".to_string(), AttributeValue::N(updated.to_string()));
        }
        item.insert("revisionId".to_string(), s(&machine.revision_id));
        self.put_text(&machine.arn, &mut item, "definition", machine.definition.clone()).await?;
        Ok(item)
    }

    async fn machine_of(&self, item: &HashMap<String, AttributeValue>) -> Result<StateMachine, StoreError> {
        let arn = get_s(item, "gsi1sk")?.to_string();
        Ok(StateMachine {
            definition: self.get_text(&arn, item, "definition").await?.ok_or_else(|| corrupt("definition"))?,
            name: get_s(item, "name")?.to_string(),
            role_arn: get_s(item, "roleArn")?.to_string(),
            machine_type: get_s(item, "type")?.to_string(),
            created_ms: get_n(item, "created")?,
            updated_ms: get_n(item, "updated").ok(),
            revision_id: get_s(item, "revisionId")?.to_string(),
            arn,
        })
    }

    /// One page of the listing index.
    async fn index_page(
        &self,
        partition: &str,
        newest_first: bool,
        status: Option<RunStatus>,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, Option<String>), StoreError> {
        let mut start = token.map(decode_token).transpose()?;
        let mut items = Vec::new();
        // A filter applies after the limit: keep reading until the page is full or the index ends.
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INDEX)
                .key_condition_expression("gsi1pk = :p")
                .expression_attribute_values(":p", s(partition))
                .scan_index_forward(!newest_first)
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            if let Some(status) = status {
                request = request
                    .filter_expression("#status = :s")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":s", s(status.as_str()));
            }
            let started = Instant::now();
            let out = request.send().await.map_err(backend)?;
            self.metrics.read(out.consumed_capacity(), started);
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => {
                    if items.len() >= limit {
                        return Ok((items, Some(encode_token(&key)?)));
                    }
                    start = Some(key);
                }
                _ => return Ok((items, None)),
            }
        }
    }
}

impl Catalog for DynamoStateStore {
    async fn create_machine(&self, machine: &StateMachine) -> Result<bool, StoreError> {
        let item = self.machine_item(machine).await?;
        self.put_if_absent(item).await
    }

    async fn machine(&self, arn: &str) -> Result<Option<StateMachine>, StoreError> {
        match self.get(arn, MACHINE_SK).await? {
            Some(item) => Ok(Some(self.machine_of(&item).await?)),
            None => Ok(None),
        }
    }

    async fn put_machine(&self, machine: &StateMachine) -> Result<(), StoreError> {
        let item = self.machine_item(machine).await?;
        self.put(item).await
    }

    async fn delete_machine(&self, arn: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk(arn)))
            .key("sk", s(MACHINE_SK))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list_machines(&self, limit: usize, token: Option<&str>) -> Result<Page<StateMachine>, StoreError> {
        let (items, next) = self.index_page(MACHINES, false, None, limit, token).await?;
        let mut machines = Vec::with_capacity(items.len());
        for item in &items {
            machines.push(self.machine_of(item).await?);
        }
        Ok(Page { items: machines, next })
    }

    async fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<RunStatus>,
        limit: usize,
        token: Option<&str>,
    ) -> Result<Page<ExecutionListing>, StoreError> {
        let (items, next) = self.index_page(&executions_partition(machine_arn), true, status, limit, token).await?;
        let mut listings = Vec::with_capacity(items.len());
        for item in &items {
            let arn = get_s(item, "pk")?.trim_start_matches("EX#").to_string();
            listings.push(ExecutionListing {
                execution_arn: arn,
                state_machine_arn: machine_arn.to_string(),
                name: get_s(item, "name")?.to_string(),
                status: status_of(get_s(item, "status")?)?,
                start_ms: get_n(item, "startTime")?,
                stop_ms: get_n(item, "stopTime").ok().filter(|t| *t > 0),
                redrive_count: get_n(item, "redriveCount").ok().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            });
        }
        Ok(Page { items: listings, next })
    }
}
