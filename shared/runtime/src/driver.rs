//! One delivery, applied: the order docs/architecture.md gives for every event —
//! load the run, step it, commit, and only then turn the step's effects into
//! actions. The local runtime and the stepper Lambda both go through here;
//! they differ only in how they carry out the actions (an in-process queue
//! and timer heap, or Lambda invocations and queued timers).
//!
//! Its `tracing` events (a lost race, staged starts skipped, a tally
//! complete) name neither the execution nor the run: the caller's span (the
//! stepper's `delivery` span) carries them.

use asl::Definition;
use engine::{
    ChildOutcome, ChildReport, ChildSpec, Ctx, Effect, Event, HistoryEvent, Prev, RunId, RunStatus, Tally, TaskRequest,
    Transition,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::store::{Checkout, CommitOutcome, ExecutionFacts, StateStore, StepRecord, StoreError};

/// The format this build writes deliveries in, and the newest it reads.
/// 0 (no `format` field): before formats were numbered. 1: `format`, and a
/// child's start names its block and Map state by name (`names`).
pub const DELIVERY_FORMAT: u32 = 1;

/// What can be delivered to an execution: the stepper Lambda's event, the
/// local runtime's queue entry. On the wire (JSON) it carries its format,
/// [`DELIVERY_FORMAT`]: a reader refuses a newer one with an error naming it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The execution.
    pub execution_arn: String,
    /// The run it is for (`""` is the root).
    pub run: RunId,
    /// What to do.
    pub kind: DeliveryKind,
    /// A timer: not to be applied before this time (ms since epoch).
    pub not_before_ms: Option<i64>,
    /// The states a child's start refers to, by name: they, not the indices
    /// in the spec, say where the child starts in the receiver's parse of the
    /// definition (a later release may number states differently).
    pub names: Option<ChildNames>,
}

/// The block a child run walks and its Map state, by name (`asl::refs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildNames {
    /// The block, by the name of its `StartAt` state.
    pub block: String,
    /// The Map state, for a Map iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_state: Option<String>,
}

impl ChildNames {
    /// The names of a spec's states in `def`.
    pub fn of(def: &Definition, spec: &ChildSpec) -> Option<ChildNames> {
        Some(ChildNames {
            block: def.block_name(spec.block)?.to_string(),
            map_state: match spec.map_state {
                Some(id) => Some(def.states.get(id.0 as usize)?.name.clone()),
                None => None,
            },
        })
    }

    /// Points `spec` at the named states of `def`.
    fn resolve(&self, def: &Definition, spec: &mut ChildSpec) -> Result<(), StoreError> {
        let unknown = |what: &str, name: &str| {
            StoreError::Backend(format!(
                "a child's start names the {what} {name:?}, which the definition does not have"
            ))
        };
        spec.block = def.block_id(&self.block).ok_or_else(|| unknown("block", &self.block))?;
        spec.map_state = match &self.map_state {
            Some(name) => Some(def.state_id(name).ok_or_else(|| unknown("Map state", name))?),
            None => None,
        };
        Ok(())
    }
}

/// A delivery as written: [`Delivery`] and its format.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireOut<'a> {
    format: u32,
    execution_arn: &'a str,
    run: &'a RunId,
    kind: &'a DeliveryKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    names: Option<&'a ChildNames>,
}

/// A delivery as read, in any format up to [`DELIVERY_FORMAT`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireIn {
    #[serde(default)]
    format: u32,
    execution_arn: String,
    run: RunId,
    kind: DeliveryKind,
    #[serde(default)]
    not_before_ms: Option<i64>,
    #[serde(default)]
    names: Option<ChildNames>,
}

impl Serialize for Delivery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            format: DELIVERY_FORMAT,
            execution_arn: &self.execution_arn,
            run: &self.run,
            kind: &self.kind,
            not_before_ms: self.not_before_ms,
            names: self.names.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Delivery {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        if wire.format > DELIVERY_FORMAT {
            return Err(serde::de::Error::custom(format!(
                "delivery format {} is newer than this build reads (up to {DELIVERY_FORMAT}): \
                 it was sent by a newer release, which must handle it",
                wire.format
            )));
        }
        Ok(Delivery {
            execution_arn: wire.execution_arn,
            run: wire.run,
            kind: wire.kind,
            not_before_ms: wire.not_before_ms,
            names: wire.names,
        })
    }
}

/// The three kinds of delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryKind {
    /// Start the execution (the root run).
    Start,
    /// Start a child run (a Parallel branch or Map iteration).
    StartChild(Box<ChildSpec>),
    /// Start the staged child `index` of the parent's tallied fan-out
    /// `generation` (the run is the child), after the sibling whose end made
    /// room for it — unless the fan-out is failing by then.
    StartStaged {
        /// The parent step that started the fan-out.
        generation: u64,
        /// The child's index.
        index: u32,
        /// The tally.
        tally: Tally,
        /// The causal predecessor of its first event.
        after: Prev,
    },
    /// Apply an event to an existing run.
    Event(Event),
}

impl Delivery {
    /// A delivery of `event` to `run`.
    pub fn event(execution_arn: &str, run: RunId, event: Event) -> Delivery {
        Delivery {
            execution_arn: execution_arn.to_string(),
            run,
            kind: DeliveryKind::Event(event),
            not_before_ms: None,
            names: None,
        }
    }

    /// The delivery that starts execution `execution_arn`.
    pub fn start(execution_arn: &str) -> Delivery {
        Delivery {
            execution_arn: execution_arn.to_string(),
            run: RunId::root(),
            kind: DeliveryKind::Start,
            not_before_ms: None,
            names: None,
        }
    }

    /// What caused a step: stored with the step, so that a redelivered
    /// event whose step is already committed is recognized and that step's
    /// effects are performed again (a crash may have lost them).
    pub fn cause(&self) -> String {
        match &self.kind {
            DeliveryKind::Start | DeliveryKind::StartChild(_) | DeliveryKind::StartStaged { .. } => "start".to_string(),
            DeliveryKind::Event(event) => match event {
                Event::Advance { version } => format!("advance:{version}"),
                Event::TaskResult { task_id, .. } => format!("task:{task_id}"),
                Event::TaskHeartbeat { task_id } => format!("heartbeat:{task_id}"),
                Event::TimerFired { timer } => format!("timer:{timer}"),
                Event::ChildFinished { generation, index, .. } => format!("child:{generation}.{index}"),
                Event::ChildrenCollected { generation, .. } => format!("collected:{generation}"),
                Event::ChildrenDone { generation, .. } => format!("done:{generation}"),
                Event::Abort => "abort".to_string(),
                Event::Stop { .. } => "stop".to_string(),
                Event::Redrive => "redrive".to_string(),
            },
        }
    }
}

/// What applying a delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// A new step was committed.
    Committed {
        /// The run that advanced.
        run: RunId,
        /// The step's version in that run.
        version: u64,
        /// Its final status after the step.
        status: RunStatus,
        /// The step's events.
        history: Vec<HistoryEvent>,
        /// Their merged `(id, previousEventId)`.
        ids: Vec<(u64, u64)>,
        /// The step's effects, to carry out.
        effects: Vec<Effect>,
    },
    /// The delivery had already been applied and its step is the run's
    /// newest: carry out that step's effects again.
    Redo {
        /// The run.
        run: RunId,
        /// The step's version in that run.
        version: u64,
        /// The stored step's effects.
        effects: Vec<Effect>,
    },
    /// Nothing to do: a duplicate, late or stale delivery.
    Dropped,
}

/// How often a delivery is re-applied after losing the race for a step to
/// another delivery before the invocation gives up (and is retried later).
const MAX_RACES: u32 = 100;

/// Lost races for one step that are routine (logged at debug); the next
/// one is logged as a warning, and then every [`RACES_WARN_EVERY`]-th.
const FEW_RACES: u32 = 3;

/// How often a delivery still losing races is logged again as a warning.
const RACES_WARN_EVERY: u32 = 25;

/// Applies one delivery: load (check out) the run, step it, commit. When
/// another delivery committed the same version first, the run is loaded
/// again and the delivery applied to the newer step — or recognized there as
/// already applied.
///
/// `origin` is the cause of the delivery an invocation was given, when this
/// one was made inside that invocation (a task's answer, collected
/// outcomes): the step then records `<origin>|<own cause>`, so a redelivered
/// origin finds the newest step its invocation made and redoes its effects.
pub async fn apply<S: StateStore>(
    store: &S,
    record: &ExecutionFacts,
    delivery: Delivery,
    ctx: &mut Ctx<'_>,
    origin: Option<&str>,
) -> Result<Applied, StoreError> {
    let arn = record.info.execution_arn.as_str();
    let def = &record.definition;
    let cause = match origin {
        Some(origin) => format!("{origin}|{}", delivery.cause()),
        None => delivery.cause(),
    };
    let run_id = delivery.run;
    for race in 0..MAX_RACES {
        let checked_out = store.checkout_run(arn, &run_id).await?;
        if let Some(current) = &checked_out
            && current.cached
            && !matches!(delivery.kind, DeliveryKind::Event(_))
        {
            // A start of a run this process knows: decide on the table's word.
            store.forget(arn, &run_id).await;
            continue;
        }
        let transition: Transition = match (&delivery.kind, checked_out) {
            (DeliveryKind::Start, None) => engine::start_execution(def, &record.info, ctx),
            (DeliveryKind::StartChild(spec), None) => {
                let mut spec = (**spec).clone();
                if let Some(names) = &delivery.names {
                    names.resolve(def, &mut spec)?;
                }
                engine::start_child(def, &record.info, spec, ctx)
            }
            // No run to apply the event to — by this process's word, which may be
            // a memory of "not started yet" (the api container created the
            // execution; the stepper, another process, started it): ask the table
            // once before dropping it.
            (DeliveryKind::Event(_), None) if race == 0 => {
                store.forget(arn, &run_id).await;
                continue;
            }
            (DeliveryKind::Event(_), None) => return Ok(Applied::Dropped),
            (DeliveryKind::StartStaged { .. }, _) => {
                return Err(StoreError::Backend(format!(
                    "run {run_id} of {arn}: a staged start must be resolved (driver::resolve_staged) before it is applied"
                )));
            }
            (DeliveryKind::Start | DeliveryKind::StartChild(_), Some(current)) => {
                return redo_or_drop(store, arn, run_id, current, &cause).await;
            }
            (DeliveryKind::Event(event), Some(current)) => {
                let (cached, current_cause) = (current.cached, current.cause);
                match engine::step(def, &record.info, current.run, event.clone(), ctx) {
                    Ok(t) => t,
                    Err(_) if cached => {
                        // Rejected by a remembered snapshot that may be stale: ask the table.
                        store.forget(arn, &run_id).await;
                        continue;
                    }
                    Err(rejection) => {
                        let current = Checkout { run: rejection.run, cause: current_cause, cached };
                        return redo_or_drop(store, arn, run_id, current, &cause).await;
                    }
                }
            }
        };
        let Transition { run, history, effects } = transition;
        let (status, version) = (run.status, run.version);
        let step = StepRecord { run, history, effects, cause: cause.clone() };
        match store.commit(arn, step).await? {
            CommitOutcome::Committed { ids, history, effects } => {
                return Ok(Applied::Committed { run: run_id, version, status, history, ids, effects });
            }
            CommitOutcome::AlreadyCommitted => {
                let lost = race + 1;
                if lost > FEW_RACES && (lost - FEW_RACES) % RACES_WARN_EVERY == 1 {
                    tracing::warn!(version, lost, "lost the race for a step again; loading the run again");
                } else {
                    tracing::debug!(version, lost, "lost the race for a step; loading the run again");
                }
                store.forget(arn, &run_id).await
            }
        }
    }
    tracing::warn!(
        races = MAX_RACES,
        "gave up after losing the race for a step too often; the delivery is retried later"
    );
    Err(StoreError::Backend(format!("run {run_id} of {arn}: lost the race for a step {MAX_RACES} times")))
}

/// A rejected delivery: if it is the cause of the run's newest step, that
/// step's effects are due again; otherwise it is dropped.
async fn redo_or_drop<S: StateStore>(
    store: &S,
    arn: &str,
    run_id: RunId,
    current: Checkout,
    cause: &str,
) -> Result<Applied, StoreError> {
    // The same delivery, or one whose invocation went on to make more steps inline.
    let same = current.cause == cause || current.cause.starts_with(&format!("{cause}|"));
    let version = current.run.version;
    store.restore_run(arn, current.run).await?;
    if !same {
        return Ok(Applied::Dropped);
    }
    match store.latest_effects(arn, &run_id).await? {
        Some(effects) if !effects.is_empty() => Ok(Applied::Redo { run: run_id, version, effects }),
        _ => Ok(Applied::Dropped),
    }
}

/// What the carrier of a step's effects must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Deliver now.
    Deliver(Delivery),
    /// Deliver at this time (ms since epoch); never earlier.
    DeliverAt(i64, Delivery),
    /// Run a task attempt, then deliver its result to `run`.
    Invoke {
        /// The run waiting for it.
        run: RunId,
        /// The attempt.
        request: Box<TaskRequest>,
    },
    /// Keep the specs of children that start later (idempotent).
    Stage {
        /// The parent run.
        run: RunId,
        /// The fan-out.
        generation: u64,
        /// The specs.
        specs: Vec<ChildSpec>,
    },
    /// Mark a tallied fan-out failing, then deliver `Abort` to its unfinished children.
    AbortTallied {
        /// The parent run.
        run: RunId,
        /// The fan-out.
        generation: u64,
        /// Its tally.
        tally: Tally,
    },
    /// Store a child's outcome (idempotent), then deliver `ChildFinished` to its parent.
    Report {
        /// The child.
        child: RunId,
        /// Its report.
        report: Box<ChildReport>,
    },
    /// Read the outcomes of a fan-out's children, then deliver them to `run`.
    Collect {
        /// The parent run.
        run: RunId,
        /// The fan-out.
        generation: u64,
        /// How many children.
        total: u32,
        /// The fan-out's tally, when its outcomes are there.
        tally: Option<Tally>,
    },
    /// The execution ended.
    Close(RunStatus),
}

/// Turns a step's effects into actions (`def`: the execution's definition,
/// which names the states a child's start refers to).
pub fn actions(def: &Definition, arn: &str, run: &RunId, effects: Vec<Effect>) -> Vec<Action> {
    let mut out = Vec::with_capacity(effects.len());
    for effect in effects {
        match effect {
            Effect::Continue { version } => {
                out.push(Action::Deliver(Delivery::event(arn, run.clone(), Event::Advance { version })))
            }
            Effect::InvokeTask(request) => out.push(Action::Invoke { run: run.clone(), request }),
            Effect::StartTimer { timer, due_ms } => {
                out.push(Action::DeliverAt(due_ms, Delivery::event(arn, run.clone(), Event::TimerFired { timer })))
            }
            Effect::StartChildren(specs) => out.extend(specs.into_iter().map(|spec| {
                Action::Deliver(Delivery {
                    execution_arn: arn.to_string(),
                    run: spec.id.clone(),
                    names: ChildNames::of(def, &spec),
                    kind: DeliveryKind::StartChild(Box::new(spec)),
                    not_before_ms: None,
                })
            })),
            Effect::StartStaged { generation, index, tally, after } => out.push(Action::Deliver(Delivery {
                execution_arn: arn.to_string(),
                run: run.child(generation, index),
                kind: DeliveryKind::StartStaged { generation, index, tally, after },
                not_before_ms: None,
                names: None,
            })),
            Effect::StageChildren { generation, specs } => {
                out.push(Action::Stage { run: run.clone(), generation, specs })
            }
            Effect::AbortChildren { generation, tally: Some(tally), .. } => {
                out.push(Action::AbortTallied { run: run.clone(), generation, tally })
            }
            Effect::AbortChildren { generation, total, tally: None } => out.extend(
                (0..total).map(|i| Action::Deliver(Delivery::event(arn, run.child(generation, i), Event::Abort))),
            ),
            Effect::CollectChildren { generation, total, tally } => {
                out.push(Action::Collect { run: run.clone(), generation, total, tally })
            }
            Effect::ReportToParent(report) => out.push(Action::Report { child: run.clone(), report }),
            Effect::Close { status } => out.push(Action::Close(status)),
        }
    }
    out
}

/// The delivery that answers a task attempt.
pub fn task_result(arn: &str, run: RunId, task_id: u64, outcome: engine::TaskOutcome) -> Delivery {
    Delivery::event(arn, run, Event::TaskResult { task_id, outcome })
}

/// Carries out `Report`: stores the outcome, then returns what the parent
/// and the siblings must be told.
///
/// A child of an earlier release's fan-out tells its parent with one
/// `ChildFinished`. A tallied child tells its parent only of a failure (the
/// parent decides at once whether the state fails, and starts the sibling
/// the failed child made room for); its end goes into the tally; a child
/// that did not fail starts the sibling it made room for (or, when the
/// fan-out is failing, counts that sibling's chain as ended: they never
/// start); and the child whose addition completed the tally delivers `ChildrenDone`. The
/// parent is told even when the outcome was already stored: the earlier
/// attempt may have crashed before telling it, and the parent drops what it
/// has counted.
pub async fn report<S: StateStore>(
    store: &S,
    arn: &str,
    child: &RunId,
    report: &ChildReport,
) -> Result<Vec<Delivery>, StoreError> {
    store.put_child_outcome(arn, child, report).await?;
    let parent = &report.parent;
    let Some(tally) = report.tally else {
        return Ok(vec![Delivery::event(arn, parent.clone(), report.finished_event())]);
    };
    let mut out = Vec::with_capacity(2);
    let failed = matches!(report.outcome, ChildOutcome::Failed(_));
    if failed {
        // The parent decides whether the sibling this child made room for starts.
        out.push(Delivery::event(arn, parent.clone(), report.finished_event()));
    }
    let (generation, index) = (report.generation, report.index);
    let mut state = store.tally_add(arn, parent, generation, tally, &[index]).await?;
    if let Some(next) = tally.successor(index).filter(|_| !failed) {
        if state.failing {
            let chain: Vec<u32> = tally.chain(next).collect();
            tracing::debug!(parent = %parent, generation, index = next, skipped = chain.len(),
                "staged starts skipped: the fan-out is failing");
            state = store.tally_add(arn, parent, generation, tally, &chain).await?;
        } else {
            let after = Prev::Sibling { index, id: report.last_state_event_id };
            out.push(Delivery {
                execution_arn: arn.to_string(),
                run: parent.child(generation, next),
                kind: DeliveryKind::StartStaged { generation, index: next, tally, after },
                not_before_ms: None,
                names: None,
            });
        }
    }
    if state.complete {
        tracing::debug!(parent = %parent, generation, last = index,
            "fan-out tally complete: telling the parent (ChildrenDone)");
        let done = Event::ChildrenDone { generation, index, last_event_id: report.last_event_id };
        out.push(Delivery::event(arn, parent.clone(), done));
    }
    Ok(out)
}

/// What a staged start comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Staged {
    /// Start the child: apply this `StartChild` delivery.
    Start(Delivery),
    /// The fan-out is failing: the child and its chain never start; these
    /// deliveries (the parent's `ChildrenDone`, when that completed the tally) follow.
    Skipped(Vec<Delivery>),
}

/// Resolves a `StartStaged` delivery against the store: the child's staged
/// spec, or — when its fan-out is failing — the child and the rest of its
/// chain counted as ended without starting. Other deliveries are returned as they are.
pub async fn resolve_staged<S: StateStore>(store: &S, delivery: Delivery) -> Result<Staged, StoreError> {
    let DeliveryKind::StartStaged { generation, index, tally, after } = delivery.kind else {
        return Ok(Staged::Start(delivery));
    };
    let arn = delivery.execution_arn;
    let child = delivery.run;
    let parent = child.parent().ok_or_else(|| StoreError::Backend(format!("staged start of the root of {arn}")))?;
    if store.tally_failing(&arn, &parent, generation, index).await? {
        let chain: Vec<u32> = tally.chain(index).collect();
        tracing::debug!(parent = %parent, generation, index, skipped = chain.len(),
            "staged starts skipped: the fan-out is failing");
        let state = store.tally_add(&arn, &parent, generation, tally, &chain).await?;
        let mut out = Vec::new();
        if state.complete {
            tracing::debug!(parent = %parent, generation, last = index,
                "fan-out tally complete: telling the parent (ChildrenDone)");
            // Nothing of this child was recorded: the parent points at the sibling that would have started it.
            let last_event_id = 0;
            out.push(Delivery::event(&arn, parent, Event::ChildrenDone { generation, index, last_event_id }));
        }
        return Ok(Staged::Skipped(out));
    }
    let mut spec = store.staged_child(&arn, &parent, generation, index).await?.ok_or_else(|| {
        StoreError::Backend(format!("child {index} of {parent} generation {generation} of {arn} was never staged"))
    })?;
    spec.first_prev = after;
    Ok(Staged::Start(Delivery {
        execution_arn: arn,
        run: child,
        kind: DeliveryKind::StartChild(Box::new(spec)),
        not_before_ms: None,
        names: None,
    }))
}

/// Carries out `AbortTallied`: marks the fan-out failing, then returns an
/// `Abort` for the running child of each chain (the first unfinished index
/// of each: the ones before it have ended, the ones after it never start).
pub async fn abort_tallied<S: StateStore>(
    store: &S,
    arn: &str,
    run: &RunId,
    generation: u64,
    tally: Tally,
) -> Result<Vec<Delivery>, StoreError> {
    let window = tally.window;
    let unfinished = store.tally_fail(arn, run, generation, tally).await?;
    let mut seen = std::collections::HashSet::new();
    Ok(unfinished
        .into_iter()
        .filter(|i| seen.insert(i % window.max(1)))
        .map(|i| Delivery::event(arn, run.child(generation, i), Event::Abort))
        .collect())
}

/// Carries out `Collect`: reads the outcomes (in pages, from the tally when
/// the fan-out is tallied), returns the parent's delivery.
pub async fn collect<S: StateStore>(
    store: &S,
    arn: &str,
    run: &RunId,
    generation: u64,
    total: u32,
    tally: Option<Tally>,
) -> Result<Delivery, StoreError> {
    let event = match tally {
        None => {
            let results = store.child_outcomes(arn, run, generation, total).await?;
            Event::ChildrenCollected { generation, results, marks: Vec::new() }
        }
        Some(tally) => {
            let (results, marks) = store.tallied_outcomes(arn, run, generation, tally).await?.into_iter().unzip();
            Event::ChildrenCollected { generation, results, marks }
        }
    };
    Ok(Delivery::event(arn, run.clone(), event))
}
