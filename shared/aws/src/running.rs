//! The running list: one marker item per execution that may still be
//! running, so that a recovery pass in a fresh process finds every execution
//! it may have to carry on (see `runtime::recovery`).
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `RUNNING#<shard, 2 digits>` | `<execution arn>` | the marker (no other attributes) |
//!
//! The marker is put with the execution's record, again when a redrive
//! makes it run again, and deleted after the root run's final step (or by
//! the recovery pass, when a crash came between the two). Markers are
//! spread over [`SHARDS`] partitions by a hash of the ARN, so starting and
//! ending executions does not make one hot partition; a listing reads the
//! shards one after the other with strongly consistent queries.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use runtime::StoreError;
use runtime::catalog::Page;
use sha2::{Digest, Sha256};

use crate::dynamo::{DynamoStateStore, backend, get_s, s};

/// Partitions the markers are spread over.
pub const SHARDS: u8 = 16;

fn shard_of(arn: &str) -> u8 {
    Sha256::digest(arn.as_bytes())[0] % SHARDS
}

fn partition(shard: u8) -> String {
    format!("RUNNING#{shard:02}")
}

fn key(arn: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(partition(shard_of(arn)))), ("sk".to_string(), s(arn))])
}

/// A page token: the shard and the last ARN listed in it (empty: from its start).
fn parse_token(token: &str) -> Result<(u8, String), StoreError> {
    let invalid = || StoreError::InvalidToken(token.to_string());
    let (shard, arn) = token.split_once(':').ok_or_else(invalid)?;
    let shard: u8 = shard.parse().map_err(|_| invalid())?;
    if shard >= SHARDS {
        return Err(invalid());
    }
    Ok((shard, arn.to_string()))
}

impl DynamoStateStore {
    /// Puts the execution's marker (idempotent).
    pub(crate) async fn mark_running(&self, arn: &str) -> Result<(), StoreError> {
        self.put(key(arn)).await
    }

    /// Deletes the execution's marker (idempotent).
    pub(crate) async fn unmark_running(&self, arn: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(arn)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(backend)?;
        self.metrics.write(out.consumed_capacity(), 0, started);
        Ok(())
    }

    /// One page of the markers: at most `limit` ARNs of one shard; `next`
    /// goes on in that shard or starts the next one.
    pub(crate) async fn running_page(&self, limit: usize, token: Option<&str>) -> Result<Page<String>, StoreError> {
        let (shard, after) = match token {
            Some(t) => parse_token(t)?,
            None => (0, String::new()),
        };
        let start = (!after.is_empty())
            .then(|| HashMap::from([("pk".to_string(), s(partition(shard))), ("sk".to_string(), s(&after))]));
        let started = Instant::now();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s(partition(shard)))
            .consistent_read(true)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(backend)?;
        self.metrics.read(out.consumed_capacity(), started);
        let items =
            out.items().iter().map(|item| get_s(item, "sk").map(str::to_string)).collect::<Result<Vec<_>, _>>()?;
        let more_here = out.last_evaluated_key().is_some_and(|k| !k.is_empty());
        let next = match (more_here, items.last()) {
            (true, Some(last)) => Some(format!("{shard:02}:{last}")),
            _ if shard + 1 < SHARDS => Some(format!("{:02}:", shard + 1)),
            _ => None,
        };
        Ok(Page { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_a_shard_and_an_arn() {
        assert_eq!(parse_token("03:arn:aws:states:x").unwrap(), (3, "arn:aws:states:x".to_string()));
        assert_eq!(parse_token("15:").unwrap(), (15, String::new()));
        assert_eq!(parse_token("16:"), Err(StoreError::InvalidToken("16:".to_string())));
        assert_eq!(parse_token("x"), Err(StoreError::InvalidToken("x".to_string())));
    }

    #[test]
    fn markers_spread_over_every_shard() {
        let shards: std::collections::HashSet<u8> =
            (0..400).map(|i| shard_of(&format!("arn:aws:states:us-east-1:1:execution:m:{i}"))).collect();
        assert_eq!(shards.len(), SHARDS as usize);
    }
}
