//! The sweeper's safety net on DynamoDB Local: a timer whose message or
//! schedule was lost is handed on once it is overdue by the grace period,
//! and a handled timer is not.

use std::sync::{Arc, Mutex};

use aws_adapters::timer_rows::{GRACE_MS, TimerRows};
use engine::{Event, RunId};
use runtime::Delivery;
use switchyard_tests::dynamo::{client, fresh_store};

fn timer(arn: &str, timer: u64, due_ms: i64) -> Delivery {
    let mut d = Delivery::event(arn, RunId::root(), Event::TimerFired { timer });
    d.not_before_ms = Some(due_ms);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_hands_on_lost_timers_once_overdue() {
    let table = fresh_store().await.table().to_string();
    let rows = TimerRows::new(client().await, &table);
    let now = 1_800_000_000_000;
    let lost = timer("arn:aws:states:us-east-1:123456789012:execution:m:lost", 65, now - GRACE_MS - 1);
    let late = timer("arn:aws:states:us-east-1:123456789012:execution:m:late", 66, now - GRACE_MS + 1_000);
    let future = timer("arn:aws:states:us-east-1:123456789012:execution:m:future", 67, now + 3_600_000);
    let handled = timer("arn:aws:states:us-east-1:123456789012:execution:m:handled", 68, now - 2 * GRACE_MS);
    for d in [&lost, &late, &future, &handled, &lost] {
        rows.record(d).await.expect("record");
    }
    rows.handled(&handled).await.expect("handled");

    let carried = Arc::new(Mutex::new(Vec::new()));
    let sweep = |at: i64| {
        let carried = carried.clone();
        let rows = rows.clone();
        async move {
            rows.sweep(at, |d| {
                let carried = carried.clone();
                async move {
                    carried.lock().map_err(|e| e.to_string())?.push(d);
                    Ok(())
                }
            })
            .await
            .expect("sweep")
        }
    };
    // Only the timer overdue by more than the grace period; recorded twice, handed on once.
    assert_eq!(sweep(now).await, 1);
    assert_eq!(carried.lock().expect("carried").as_slice(), std::slice::from_ref(&lost));
    // Its row stays until the stepper has handled it: the next sweep hands it on again.
    assert_eq!(sweep(now).await, 1);
    rows.handled(&lost).await.expect("handled");
    carried.lock().expect("carried").clear();
    // A minute later the late one is overdue too; the future one never is before its time.
    assert_eq!(sweep(now + 60_000).await, 1);
    assert_eq!(carried.lock().expect("carried").clone(), [late]);
    assert_eq!(rows.overdue(now + 3_600_000 + GRACE_MS, 100).await.expect("overdue").len(), 2);
}
