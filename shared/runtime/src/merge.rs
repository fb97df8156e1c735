//! Merging the logs of an execution's runs into one history with dense ids,
//! for stores that keep one log per run and no global commit order
//! (DynamoDB). Steps are taken in time order, each run's steps in version
//! order, and never before the events they point at (`previousEventId`):
//! a step whose predecessor in another run is not placed yet waits for it,
//! so the merged history is causal even when clocks tie or skew.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use engine::{HistoryEvent, Prev, RunId};

use crate::store::RecordedEvent;

/// One committed step of one run, as a store read it back.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedStep {
    /// The run.
    pub run: RunId,
    /// The step's version in that run.
    pub version: u64,
    /// When it was made (ms since epoch).
    pub at_ms: i64,
    /// Its events, in the run's own numbering.
    pub events: Vec<HistoryEvent>,
}

/// Where an event points, as (run, local id); `None` for `previousEventId` 0.
fn target(run: &RunId, prev: Prev) -> Option<(RunId, u64)> {
    match prev {
        Prev::None => None,
        Prev::Local(id) => Some((run.clone(), id)),
        Prev::Parent(id) => run.parent().map(|p| (p, id)),
        Prev::Child { generation, index, id } => Some((run.child(generation, index), id)),
        Prev::Sibling { index, id } => run.sibling(index).map(|s| (s, id)),
    }
}

/// Merges the steps of every run of an execution into its history.
pub fn merge(steps: Vec<LoggedStep>) -> Vec<RecordedEvent> {
    // Each run's steps, in version order.
    let mut queues: HashMap<RunId, VecDeque<LoggedStep>> = HashMap::new();
    for step in steps {
        queues.entry(step.run.clone()).or_default().push_back(step);
    }
    for queue in queues.values_mut() {
        queue.make_contiguous().sort_by_key(|s| s.version);
    }
    // The heads of the queues, earliest first (ties: shallower runs, then run id).
    let mut heads: BinaryHeap<Reverse<(i64, usize, RunId)>> = BinaryHeap::new();
    for (run, queue) in &queues {
        if let Some(head) = queue.front() {
            heads.push(Reverse((head.at_ms, run.0.matches('/').count(), run.clone())));
        }
    }
    let mut placed: HashMap<(RunId, u64), u64> = HashMap::new();
    let mut waiting: HashMap<(RunId, u64), Vec<RunId>> = HashMap::new();
    let mut history = Vec::new();
    while let Some(Reverse((_, _, run))) = heads.pop() {
        let Some(queue) = queues.get_mut(&run) else { continue };
        let Some(step) = queue.front() else { continue };
        // A step waits until every event it points at outside itself is placed.
        let own: Vec<u64> = step.events.iter().map(|e| e.id).collect();
        let missing = step.events.iter().filter_map(|e| target(&run, e.previous)).find(|(r, id)| {
            let inside = r == &run && own.contains(id);
            !inside && !placed.contains_key(&(r.clone(), *id))
        });
        if let Some(key) = missing {
            waiting.entry(key).or_default().push(run);
            continue;
        }
        let Some(step) = queue.pop_front() else { continue };
        if let Some(next) = queue.front() {
            heads.push(Reverse((next.at_ms, run.0.matches('/').count(), run.clone())));
        }
        let mut woken = Vec::new();
        for event in step.events {
            let id = history.len() as u64 + 1;
            let previous = target(&run, event.previous).and_then(|k| placed.get(&k).copied()).unwrap_or(0);
            let key = (run.clone(), event.id);
            placed.insert(key.clone(), id);
            history.push(RecordedEvent { id, previous_event_id: previous, event });
            woken.extend(waiting.remove(&key).unwrap_or_default());
        }
        for run in woken {
            if let Some(head) = queues.get(&run).and_then(|q| q.front()) {
                heads.push(Reverse((head.at_ms, run.0.matches('/').count(), run.clone())));
            }
        }
    }
    history
}

#[cfg(test)]
mod tests {
    use engine::EventDetails;

    use super::*;

    fn event(id: u64, previous: Prev, at: i64) -> HistoryEvent {
        HistoryEvent { id, previous, timestamp_ms: at, details: EventDetails::ParallelStateStarted }
    }

    fn step(run: &str, version: u64, at_ms: i64, events: Vec<HistoryEvent>) -> LoggedStep {
        LoggedStep { run: RunId(run.to_string()), version, at_ms, events }
    }

    fn ids(history: &[RecordedEvent]) -> Vec<(u64, u64)> {
        history.iter().map(|e| (e.id, e.previous_event_id)).collect()
    }

    #[test]
    fn one_run_keeps_its_order_and_links() {
        let steps = vec![
            step("", 2, 10, vec![event(3, Prev::Local(2), 10)]),
            step("", 1, 10, vec![event(1, Prev::None, 10), event(2, Prev::None, 10)]),
        ];
        assert_eq!(ids(&merge(steps)), [(1, 0), (2, 0), (3, 2)]);
    }

    #[test]
    fn a_child_never_precedes_the_parent_event_it_points_at_even_when_clocks_skew() {
        let steps = vec![
            // The child's clock runs 5 ms behind the parent's.
            step("/65.0", 1, 5, vec![event(1, Prev::Parent(2), 5)]),
            step("", 1, 10, vec![event(1, Prev::None, 10), event(2, Prev::Local(1), 10)]),
            step("", 2, 12, vec![event(4, Prev::Child { generation: 65, index: 0, id: 1 }, 12)]),
        ];
        let merged = merge(steps);
        assert_eq!(ids(&merged), [(1, 0), (2, 1), (3, 2), (4, 3)]);
        assert_eq!(merged[2].event.id, 1, "the child's event comes third");
    }

    #[test]
    fn siblings_interleave_by_time_and_a_sibling_link_waits() {
        let steps = vec![
            step("", 1, 0, vec![event(1, Prev::None, 0)]),
            step("/65.0", 1, 1, vec![event(1, Prev::Parent(1), 1)]),
            step("/65.1", 1, 1, vec![event(1, Prev::Sibling { index: 0, id: 1 }, 1)]),
        ];
        assert_eq!(ids(&merge(steps)), [(1, 0), (2, 1), (3, 2)]);
    }
}
