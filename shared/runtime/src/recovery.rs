//! Recovery: carrying out again, from the table alone, whatever a crash may
//! have left undone, so that no execution strands.
//!
//! A step is committed before its effects are carried out (see
//! docs/architecture.md), and every step item keeps its effects and its
//! cause. A process that dies between the commit and the end of the effects
//! — or a delivery lost on its way — leaves the run's newest step with
//! effects nobody carries out. A recovery pass finds them: for every
//! execution that may still be running ([`StateStore::running_executions`])
//! it reads the newest step of each run ([`StateStore::newest_steps`], never
//! from a cache, so it works in a fresh process) and hands each to
//! [`Stepper::resume`], which carries out the step's effects again.
//!
//! Redoing is safe because every effect is idempotent where it lands:
//!
//! - a delivery (`Advance`, an abort) whose step was already applied is
//!   dropped by the driver, or redoes that step's effects when it was the
//!   newest;
//! - a child start of a run that exists is dropped;
//! - a timer is armed again: it fires a `TimerFired` the engine drops when it
//!   is stale, and one whose due time passed while nobody ran goes on at once;
//! - a child's report is stored put-once, and its parent drops a report it
//!   has counted;
//! - collected outcomes are only read.
//!
//! A Task is different: its attempt is invoked again. The engine records an
//! attempt's answer once (a second answer is rejected), so the history never
//! shows it twice, but the task itself may run twice after a crash — the
//! at-least-once invocation Step Functions' own Lambda integration has too;
//! tasks should be idempotent. Within one process nothing is invoked twice:
//! the stepper skips every run it is carrying at the moment (a delivery in
//! hand, a timer asleep, a task awaited) and every step it has carried out
//! (its deliveries are on their way). After a crash that memory is empty, so
//! everything is redone.
//!
//! An execution created but never started (its start delivery was lost) is
//! started, once it is older than [`START_GRACE_MS`] (a younger one's start
//! may still be on its way; starting it twice would be dropped, but could
//! invoke its first task twice).
//!
//! One step is not redone although it has effects: the end of a child of a
//! tallied fan-out whose successor (the sibling its end starts) has a run.
//! Its report was carried out up to that start — the outcome stored, the
//! tally added to, the successor started — and it owed no `ChildrenDone`
//! (the successor's own addition comes later). Redoing it would cost two
//! writes and an invocation per finished child and pass: 1.71 stepper
//! invocations per transition for a 2,000-item Map with passes every 5 s on
//! the local stack (scripts/stack-bench.sh), 1.00 with this rule. The last
//! children of each chain (no successor) and failed ones are still redone.
//!
//! An execution whose root run has ended is dropped from the running list
//! ([`StateStore::retire`]) after its final step is redone (the answer to a
//! waiting parent execution may be what was lost).

use std::collections::HashSet;
use std::sync::Arc;

use engine::{ChildOutcome, Effect, RunId, RunStatus};
use tokio::task::JoinSet;

use crate::driver::Delivery;
use crate::invoker::TaskInvoker;
use crate::stepper::{Carrier, Stepper, StepperError};
use crate::store::{NewestStep, StateStore, StoreError};

/// How old an execution without any step must be before a pass starts it:
/// younger, its start delivery may still be on its way.
pub const START_GRACE_MS: i64 = 10_000;

/// Executions listed per page of the running list.
const PAGE: usize = 100;

/// What a recovery pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recovered {
    /// Executions looked at.
    pub executions: u32,
    /// Steps whose effects were carried out again.
    pub redone: u32,
    /// Steps left alone: no effects, or carried by this process already.
    pub skipped: u32,
    /// Steps the redone effects committed.
    pub transitions: u32,
    /// Executions found ended and dropped from the running list.
    pub retired: u32,
    /// Executions whose recovery failed (logged; the next pass tries again).
    pub failed: u32,
}

impl Recovered {
    fn add(&mut self, other: Recovered) {
        self.executions += other.executions;
        self.redone += other.redone;
        self.skipped += other.skipped;
        self.transitions += other.transitions;
        self.retired += other.retired;
        self.failed += other.failed;
    }
}

/// Recovers one execution: carries out again the effects of each run's
/// newest step that this process is not carrying. When the root run has
/// ended, only its final step is redone and the execution is retired.
pub async fn recover_execution<S: StateStore, I: TaskInvoker, C: Carrier>(
    stepper: &Stepper<S, I, C>,
    arn: &str,
) -> Result<Recovered, StepperError> {
    let mut done = Recovered { executions: 1, ..Recovered::default() };
    let steps = stepper.store().newest_steps(arn).await?;
    if !steps.iter().any(|s| s.run.is_root()) {
        // Created, never started: the start delivery was lost (or is still on
        // its way, when the execution is young).
        let facts = match stepper.store().facts(arn).await {
            Ok(facts) => facts,
            // Listed, but its record was never written (a creation cut short): nothing to carry on.
            Err(StoreError::ExecutionDoesNotExist(_)) => {
                done.skipped += 1;
                return Ok(done);
            }
            Err(e) => return Err(e.into()),
        };
        if stepper.clock().now_ms() - facts.info.start_time_ms < START_GRACE_MS {
            done.skipped += 1;
            return Ok(done);
        }
        let handled = stepper.handle(Delivery::start(arn)).await?;
        tracing::info!(
            execution = arn,
            transitions = handled.transitions,
            "recovery: started an execution whose start was lost"
        );
        done.redone += 1;
        done.transitions += handled.transitions;
        return Ok(done);
    }
    let ended = steps.iter().any(|s| s.run.is_root() && s.status != RunStatus::Running);
    let runs: HashSet<RunId> = steps.iter().map(|s| s.run.clone()).collect();
    for step in steps {
        if ended && !step.run.is_root() {
            continue;
        }
        if report_carried(&step, &runs) {
            done.skipped += 1;
            continue;
        }
        let (run, version) = (step.run.clone(), step.version);
        match stepper.resume(arn, step).await? {
            Some(handled) => {
                tracing::debug!(execution = arn, run = %run, version, transitions = handled.transitions,
                    dispatched = handled.dispatched, "recovery: redid the effects of a step");
                done.redone += 1;
                done.transitions += handled.transitions;
            }
            None => done.skipped += 1,
        }
    }
    if ended {
        stepper.store().retire(arn).await?;
        tracing::debug!(execution = arn, "recovery: retired an ended execution from the running list");
        done.retired += 1;
    }
    if done.redone > 0 {
        tracing::info!(
            execution = arn,
            redone = done.redone,
            transitions = done.transitions,
            "recovery: carried on an execution"
        );
    }
    Ok(done)
}

/// Whether `step` is the end of a tallied child whose report was carried out
/// (see the module's documentation): it succeeded, it reports through a tally,
/// and the sibling its end starts has a run among `runs`.
fn report_carried(step: &NewestStep, runs: &HashSet<RunId>) -> bool {
    if step.status == RunStatus::Running {
        return false;
    }
    let [Effect::ReportToParent(report)] = step.effects.as_slice() else {
        return false;
    };
    let Some(tally) = report.tally else {
        return false;
    };
    if matches!(report.outcome, ChildOutcome::Failed(_)) {
        return false;
    }
    tally.successor(report.index).is_some_and(|next| runs.contains(&report.parent.child(report.generation, next)))
}

/// One recovery pass over every execution that may still be running, at
/// most `concurrency` at a time (so that the pass leaves room for other
/// work). An execution whose recovery fails is logged and counted; the
/// pass goes on with the others. Fails only when the running list cannot be read.
///
/// With `quiet_ms`, an execution this process handled a delivery of within
/// the last `quiet_ms` is left alone (it is making progress here; reading all
/// its steps would only cost): the periodic passes of a long-lived process.
/// Without it every listed execution is looked at: a pass at start-up, or in
/// a process that carries nothing itself.
pub async fn recover_all<S: StateStore, I: TaskInvoker, C: Carrier>(
    stepper: Arc<Stepper<S, I, C>>,
    concurrency: usize,
    quiet_ms: Option<i64>,
) -> Result<Recovered, StepperError> {
    tracing::debug!(concurrency, "recovery pass started");
    let started = std::time::Instant::now();
    let mut total = Recovered::default();
    let mut token: Option<String> = None;
    let mut progressing = 0u32;
    let mut running = JoinSet::new();
    let mut note = |result: Result<(String, Result<Recovered, StepperError>), tokio::task::JoinError>| match result {
        Ok((_, Ok(done))) => total.add(done),
        Ok((arn, Err(e))) => {
            tracing::warn!(execution = %arn, error = %e, "recovery: an execution could not be recovered");
            total.failed += 1;
        }
        Err(e) => {
            tracing::warn!(error = %e, "recovery: a recovery task failed");
            total.failed += 1;
        }
    };
    loop {
        let page = stepper.store().running_executions(PAGE, token.as_deref()).await?;
        for arn in page.items {
            let now = stepper.clock().now_ms();
            if let Some(quiet) = quiet_ms
                && stepper.last_active_ms(&arn).is_some_and(|at| now - at < quiet)
            {
                tracing::debug!(execution = %arn, "recovery: left alone, making progress in this process");
                progressing += 1;
                continue;
            }
            while running.len() >= concurrency.max(1) {
                if let Some(result) = running.join_next().await {
                    note(result);
                }
            }
            let stepper = stepper.clone();
            running.spawn(async move {
                let done = recover_execution(&stepper, &arn).await;
                (arn, done)
            });
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    while let Some(result) = running.join_next().await {
        note(result);
    }
    total.executions += progressing;
    total.skipped += progressing;
    let ms = started.elapsed().as_millis() as u64;
    let Recovered { executions, redone, skipped, transitions, retired, failed } = total;
    if executions > 0 {
        tracing::info!(executions, redone, skipped, transitions, retired, failed, ms, "recovery pass ended");
    } else {
        tracing::debug!(executions, ms, "recovery pass ended: nothing running");
    }
    Ok(total)
}
