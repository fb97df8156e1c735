//! The tallies of fan-outs on DynamoDB (see `runtime::tally` and
//! docs/architecture.md, "Fan-out and fan-in").
//!
//! Every shard of a fan-out (100 children) has its own partition key, so a
//! large Map's outcomes, staged specs and set additions spread over as many
//! keys as it has shards:
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `EX#<arn>#FAN#<parent run>#<generation>#<shard>` | `TALLY` | `ended`: number set of the shard's ended children; `failing` |
//! | same | `DONE#<index, 10 digits>` | a child's outcome and event ids, put once |
//! | same | `SPEC#<index, 10 digits>` | the spec of a child that starts later |
//! | `EX#<arn>#FAN#<parent run>#<generation>` | `SHARDS` | `ended`: number set of the completed shards (fan-outs of more than one shard) |
//!
//! A set addition (`ADD ended :i`) is idempotent: a redelivered end changes
//! nothing. `ReturnValues: ALL_NEW` tells the adder, in the same request,
//! whether its addition completed the shard and whether the fan-out is failing.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnConsumedCapacity, ReturnValue, WriteRequest};
use engine::{ChildMark, ChildOutcome, ChildReport, ChildSpec, RunId, Tally};
use runtime::store::StoreError;
use runtime::tally::{TallyState, shard_count, shard_len, shard_of};

use crate::dynamo::{DynamoStateStore, backend, corrupt, format_attribute, get_n, get_s, item_format, item_size, s};

/// Items per BatchWriteItem request (DynamoDB's limit).
const BATCH: usize = 25;

fn fan_pk(arn: &str, parent: &RunId, generation: u64) -> String {
    format!("EX#{arn}#FAN#{}#{generation}", parent.0)
}

fn shard_pk(arn: &str, parent: &RunId, generation: u64, shard: u32) -> String {
    format!("{}#{shard}", fan_pk(arn, parent, generation))
}

fn numbers(item: &HashMap<String, AttributeValue>, name: &str) -> Result<Vec<u32>, StoreError> {
    match item.get(name) {
        None => Ok(Vec::new()),
        Some(value) => {
            let set = value.as_ns().map_err(|_| corrupt(format!("{name} is not a number set")))?;
            set.iter().map(|n| n.parse().map_err(corrupt)).collect()
        }
    }
}

impl DynamoStateStore {
    /// `ADD ended :values` on an item; its attributes after the update.
    async fn add_ended(
        &self,
        pk: String,
        sk: &str,
        values: Vec<u32>,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let bytes = 16 + values.len() * 6;
        let set = AttributeValue::Ns(values.iter().map(u32::to_string).collect());
        self.update_tally(pk, sk, "ADD ended :v", set, bytes).await
    }

    /// One UpdateItem on a tally item (`expression` with its value `:v`); the item's attributes after it.
    async fn update_tally(
        &self,
        pk: String,
        sk: &str,
        expression: &str,
        value: AttributeValue,
        bytes: usize,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        self.metrics.key_written(&pk);
        let started = Instant::now();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression(expression)
            .expression_attribute_values(":v", value)
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(backend)?;
        self.metrics.write(out.consumed_capacity(), bytes, started);
        Ok(out.attributes.unwrap_or_default())
    }

    /// The tallied form of `put_child_outcome`: the outcome and event ids, put once in the child's shard.
    pub(crate) async fn put_tallied_outcome(
        &self,
        arn: &str,
        child: &RunId,
        report: &ChildReport,
    ) -> Result<bool, StoreError> {
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(shard_pk(arn, &report.parent, report.generation, shard_of(report.index))));
        item.insert("sk".to_string(), s(format!("DONE#{:010}", report.index)));
        item.insert("fmt".to_string(), format_attribute());
        item.insert("child".to_string(), s(child.0.clone()));
        item.insert("outcome".to_string(), s(serde_json::to_string(&report.outcome).map_err(corrupt)?));
        item.insert("lastEventId".to_string(), AttributeValue::N(report.last_event_id.to_string()));
        item.insert("lastStateEventId".to_string(), AttributeValue::N(report.last_state_event_id.to_string()));
        self.put_if_absent(item).await
    }

    /// See `StateStore::stage_children`: BatchWriteItem, 25 items a request,
    /// unprocessed items sent again.
    pub(crate) async fn stage(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        specs: &[ChildSpec],
    ) -> Result<(), StoreError> {
        // A spec names its block and Map state: by name, so another parse of the definition finds them.
        let definition = self.definition(arn).await?;
        for batch in specs.chunks(BATCH) {
            let mut requests = Vec::with_capacity(batch.len());
            for spec in batch {
                let pk = shard_pk(arn, parent, generation, shard_of(spec.index));
                self.metrics.key_written(&pk);
                let mut item = HashMap::new();
                item.insert("pk".to_string(), s(pk));
                item.insert("sk".to_string(), s(format!("SPEC#{:010}", spec.index)));
                item.insert("fmt".to_string(), format_attribute());
                let text = asl::refs::by_name(&definition, || serde_json::to_string(spec)).map_err(corrupt)?;
                item.insert("spec".to_string(), s(text));
                let bytes = item_size(&item);
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(backend)?;
                requests.push((WriteRequest::builder().put_request(put).build(), bytes));
            }
            let bytes: usize = requests.iter().map(|(_, b)| b).sum();
            let mut pending: Vec<WriteRequest> = requests.into_iter().map(|(r, _)| r).collect();
            let mut attempt = 0u32;
            while !pending.is_empty() {
                let started = Instant::now();
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(backend)?;
                self.metrics.write(out.consumed_capacity().first(), bytes, started);
                pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if !pending.is_empty() {
                    // DynamoDB throttled part of the batch: back off before sending the rest again.
                    attempt += 1;
                    tracing::warn!(
                        arn,
                        unprocessed = pending.len(),
                        attempt,
                        "staging children: retrying unprocessed items"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(25u64 << attempt.min(6))).await;
                }
            }
        }
        Ok(())
    }

    /// See `StateStore::staged_child`.
    pub(crate) async fn staged(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> Result<Option<ChildSpec>, StoreError> {
        let pk = shard_pk(arn, parent, generation, shard_of(index));
        let Some(item) = self.get_key(pk, &format!("SPEC#{index:010}")).await? else {
            return Ok(None);
        };
        item_format(&item)?;
        let definition = self.definition(arn).await?;
        let text = get_s(&item, "spec")?;
        Ok(Some(asl::refs::by_name(&definition, || serde_json::from_str(text)).map_err(corrupt)?))
    }

    /// See `StateStore::tally_add`.
    pub(crate) async fn add_to_tally(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
        indices: &[u32],
    ) -> Result<TallyState, StoreError> {
        let mut by_shard: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for &index in indices.iter().filter(|i| **i < tally.total) {
            by_shard.entry(shard_of(index)).or_default().push(index);
        }
        let shards = shard_count(tally.total);
        let mut state = TallyState::default();
        for (shard, values) in by_shard {
            let item = self.add_ended(shard_pk(arn, parent, generation, shard), "TALLY", values).await?;
            state.failing |= item.get("failing").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
            let ended = numbers(&item, "ended")?.len() as u32;
            if ended < shard_len(tally.total, shard) {
                continue;
            }
            if shards == 1 {
                state.complete = true;
            } else {
                let root = self.add_ended(fan_pk(arn, parent, generation), "SHARDS", vec![shard]).await?;
                state.complete |= numbers(&root, "ended")?.len() as u32 == shards;
            }
        }
        Ok(state)
    }

    /// See `StateStore::tally_fail`.
    pub(crate) async fn fail_tally(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> Result<Vec<u32>, StoreError> {
        let mut unfinished = Vec::new();
        for shard in 0..shard_count(tally.total) {
            let pk = shard_pk(arn, parent, generation, shard);
            let item = self.update_tally(pk, "TALLY", "SET failing = :v", AttributeValue::Bool(true), 16).await?;
            let ended = numbers(&item, "ended")?;
            let first = shard * runtime::tally::SHARD_SIZE;
            unfinished.extend((first..first + shard_len(tally.total, shard)).filter(|i| !ended.contains(i)));
        }
        Ok(unfinished)
    }

    /// See `StateStore::tally_failing`.
    pub(crate) async fn tally_is_failing(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> Result<bool, StoreError> {
        let item = self.get_key(shard_pk(arn, parent, generation, shard_of(index)), "TALLY").await?;
        Ok(item.and_then(|i| i.get("failing").and_then(|v| v.as_bool().ok()).copied()).unwrap_or(false))
    }

    /// See `StateStore::tallied_outcomes`: each shard's outcomes in pages.
    pub(crate) async fn outcomes_of_tally(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> Result<Vec<(ChildOutcome, ChildMark)>, StoreError> {
        let mut all = vec![(ChildOutcome::Aborted, ChildMark::default()); tally.total as usize];
        for shard in 0..shard_count(tally.total) {
            let pk = shard_pk(arn, parent, generation, shard);
            for item in self.query_key_prefix(&pk, "DONE#").await? {
                let sk = get_s(&item, "sk")?;
                let index: usize = sk["DONE#".len()..].parse().map_err(corrupt)?;
                item_format(&item)?;
                let outcome: ChildOutcome = serde_json::from_str(get_s(&item, "outcome")?).map_err(corrupt)?;
                let mark = ChildMark {
                    last_event_id: get_n(&item, "lastEventId")? as u64,
                    last_state_event_id: get_n(&item, "lastStateEventId")? as u64,
                };
                let slot = all.get_mut(index).ok_or_else(|| corrupt(format!("child outcome {sk} out of range")))?;
                *slot = (outcome, mark);
            }
        }
        Ok(all)
    }
}
