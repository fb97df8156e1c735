//! The transition function: one event applied to one run.

use std::borrow::Cow;

use asl::definition::{
    ChoiceState, FailState, MapState, NumberField, ParallelState, PassState, PathField, ResultPath, TaskState,
    TextField, WaitState,
};
use asl::resource::{Pattern, Resource};
use asl::retry::{Catcher, Retrier};
use asl::{Definition, Entropy, Env, Failure, State, StateKind, names};
use serde_json::{Value, json};

use crate::MAX_PAYLOAD_BYTES;
use crate::context::{self, StateContext};
use crate::effect::{ChildMark, ChildOutcome, ChildReport, ChildSpec, Effect, TaskRequest};
use crate::event::{Event, TaskOutcome};
use crate::exec::ExecutionInfo;
use crate::history::{EventDetails, HistoryEvent, Prev, StateRef, StateType, TaskRef};
use crate::snapshot::{Cursor, FanOut, ParentLink, Phase, Run, RunId, RunStatus, Tally};

/// Iterations an INLINE Map runs at once when its MaxConcurrency is 0 (no
/// limit): Step Functions runs at most 40 inline iterations concurrently.
pub const INLINE_MAP_WINDOW: u32 = 40;

/// Child workflows a DISTRIBUTED Map runs at once when its MaxConcurrency is
/// 0. Step Functions allows up to 10,000; here every running child takes
/// steps on the same table, and 1,000 keeps a Map's children, whose steps
/// fill the execution's partitions, below DynamoDB's 1,000 writes per second
/// per partition at the rates a child step takes.
pub const DISTRIBUTED_MAP_WINDOW: u32 = 1_000;

/// What the transition function gets from outside: the time and randomness.
pub struct Ctx<'a> {
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Random bits (task tokens, jitter, `States.UUID`, `States.MathRandom`).
    pub entropy: &'a mut (dyn Entropy + Send),
}

/// The result of applying an event: the run's next snapshot, the history
/// events to record and the effects to perform once both are committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The run after the event.
    pub run: Run,
    /// Events recorded by this transition, in order.
    pub history: Vec<HistoryEvent>,
    /// What to do after committing.
    pub effects: Vec<Effect>,
}

/// Why an event was not applied. Not an error of the execution: the event
/// was a duplicate, late or out of order, and is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The run already ended.
    #[error("the run is no longer running")]
    NotRunning,
    /// The run is not waiting for this event (any more).
    #[error("stale event: {0}")]
    Stale(&'static str),
}

/// An event that was not applied, with the run it was meant for, unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Why it was not applied.
    pub reason: Rejected,
    /// The run, as it was given.
    pub run: Run,
}

/// Starts an execution: records `ExecutionStarted` and runs the first state.
pub fn start_execution(def: &Definition, exec: &ExecutionInfo, ctx: &mut Ctx<'_>) -> Transition {
    let block = def.block(Definition::ROOT);
    let run = Run {
        id: RunId::root(),
        parent: None,
        block: Definition::ROOT,
        version: 0,
        last_event_id: 0,
        status: RunStatus::Running,
        cursor: Cursor::ready(block.start_at, exec.input.clone(), Prev::None),
        execution_timer: None,
        redrive_count: 0,
    };
    let mut s = Stepper::new(def, exec, ctx, run);
    s.emit(EventDetails::ExecutionStarted { input: exec.input.to_string(), role_arn: exec.role_arn.clone() });
    // Step Functions records the first StateEntered with previousEventId 0.
    s.run.cursor.prev = Prev::None;
    if let Some(seconds) = def.timeout_seconds {
        let timer = s.new_id();
        s.run.execution_timer = Some(timer);
        let due_ms = s.now().saturating_add(seconds.saturating_mul(1000) as i64);
        s.effects.push(Effect::StartTimer { timer, due_ms });
    }
    s.enter();
    s.finish()
}

/// Starts a child run (a Parallel branch or a Map iteration) from its spec.
pub fn start_child(def: &Definition, exec: &ExecutionInfo, spec: ChildSpec, ctx: &mut Ctx<'_>) -> Transition {
    let block = def.block(spec.block);
    let run = Run {
        id: spec.id,
        parent: Some(ParentLink {
            generation: spec.generation,
            index: spec.index,
            map_state: spec.map_state,
            tally: spec.tally,
        }),
        block: spec.block,
        version: 0,
        last_event_id: 0,
        status: RunStatus::Running,
        cursor: Cursor::ready(block.start_at, spec.input, spec.first_prev),
        execution_timer: None,
        redrive_count: 0,
    };
    let mut s = Stepper::new(def, exec, ctx, run);
    if let Some(map_state) = spec.map_state {
        let name = def.state(map_state).name.clone();
        s.emit(EventDetails::MapIterationStarted { name, index: spec.index });
    }
    s.enter();
    s.finish()
}

/// Applies one event to a run. A rejected event leaves the run untouched
/// and hands it back.
pub fn step(
    def: &Definition,
    exec: &ExecutionInfo,
    run: Run,
    event: Event,
    ctx: &mut Ctx<'_>,
) -> Result<Transition, Box<Rejection>> {
    if matches!(event, Event::Redrive) {
        if run.parent.is_some() || !matches!(run.status, RunStatus::Failed | RunStatus::TimedOut | RunStatus::Aborted) {
            return Err(Box::new(Rejection {
                reason: Rejected::Stale("only an ended, unsuccessful execution is redriven"),
                run,
            }));
        }
        let mut s = Stepper::new(def, exec, ctx, run);
        s.redrive();
        return Ok(s.finish());
    }
    if run.status != RunStatus::Running {
        return Err(Box::new(Rejection { reason: Rejected::NotRunning, run }));
    }
    let mut s = Stepper::new(def, exec, ctx, run);
    match apply(&mut s, event) {
        Ok(()) => Ok(s.finish()),
        Err(reason) => Err(Box::new(Rejection { reason, run: s.run })),
    }
}

/// Dispatches an event. Every rejection is decided before the run changes.
fn apply(s: &mut Stepper<'_, '_, '_>, event: Event) -> Result<(), Rejected> {
    match event {
        Event::Advance { version } => {
            if s.run.version != version || s.run.cursor.phase != Phase::Ready {
                return Err(Rejected::Stale("advance for another version"));
            }
            s.enter();
        }
        Event::TaskResult { task_id, outcome } => {
            match &s.run.cursor.phase {
                Phase::Task { task_id: expected, .. } if *expected == task_id => {}
                _ => {
                    return Err(Rejected::Stale("result of a task attempt that is not running"));
                }
            }
            let lambda = matches!(&s.state().kind,
                StateKind::Task(t) if matches!(t.resource, Resource::LambdaFunction { .. }));
            if lambda && matches!(outcome, TaskOutcome::Submitted(_)) {
                return Err(Rejected::Stale("a Lambda function task cannot be submitted"));
            }
            s.on_task_result(outcome)?;
        }
        Event::TaskHeartbeat { task_id } => s.on_heartbeat(task_id)?,
        Event::TimerFired { timer } => s.on_timer(timer)?,
        Event::ChildFinished { generation, index, failure, last_event_id, last_state_event_id } => {
            s.on_child_finished(generation, index, failure, last_event_id, last_state_event_id)?
        }
        Event::ChildrenDone { generation, index, last_event_id } => {
            s.on_children_done(generation, index, last_event_id)?
        }
        Event::ChildrenCollected { generation, results, marks } => {
            s.on_children_collected(generation, results, marks)?
        }
        Event::Abort => s.abort_child()?,
        Event::Stop { error, cause } => s.stop(error, cause)?,
        Event::Redrive => return Err(Rejected::NotRunning),
    }
    Ok(())
}

/// The working state of one transition.
struct Stepper<'d, 'c, 'e> {
    def: &'d Definition,
    exec: &'d ExecutionInfo,
    ctx: &'c mut Ctx<'e>,
    run: Run,
    history: Vec<HistoryEvent>,
    effects: Vec<Effect>,
    ids: u64,
}

/// What Retry/Catch make of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Retry with retrier `i`.
    Retry(usize),
    /// Go on with catcher `i`.
    Catch(usize),
    /// Nothing handles it: the run fails.
    Fail,
}

/// Whether a state type records `<Type>StateAborted`.
fn has_aborted_event(kind: &StateKind) -> bool {
    matches!(kind, StateKind::Task(_) | StateKind::Wait(_) | StateKind::Parallel(_) | StateKind::Map(_))
}

impl<'d, 'c, 'e> Stepper<'d, 'c, 'e> {
    fn new(def: &'d Definition, exec: &'d ExecutionInfo, ctx: &'c mut Ctx<'e>, run: Run) -> Self {
        Stepper { def, exec, ctx, run, history: Vec::with_capacity(4), effects: Vec::with_capacity(2), ids: 0 }
    }

    fn finish(mut self) -> Transition {
        self.run.version += 1;
        Transition { run: self.run, history: self.history, effects: self.effects }
    }

    fn now(&self) -> i64 {
        self.ctx.now_ms
    }

    /// A number unique within this run: task attempts, timers and fan-out generations.
    fn new_id(&mut self) -> u64 {
        self.ids += 1;
        (self.run.version + 1) * 64 + self.ids
    }

    /// A uniformly random number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.ctx.entropy.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A task token for attempt `task_id`: its route and 128 random bits.
    fn new_token(&mut self, task_id: u64) -> String {
        let route = crate::token::TokenRoute {
            execution_arn: self.exec.execution_arn.clone(),
            run: self.run.id.clone(),
            task_id,
        };
        crate::token::encode(&route, [self.ctx.entropy.next_u64(), self.ctx.entropy.next_u64()])
    }

    fn emit(&mut self, details: EventDetails) -> u64 {
        self.run.last_event_id += 1;
        let id = self.run.last_event_id;
        let previous = std::mem::replace(&mut self.run.cursor.prev, Prev::Local(id));
        self.history.push(HistoryEvent { id, previous, timestamp_ms: self.ctx.now_ms, details });
        id
    }

    fn state(&self) -> &'d State {
        self.def.state(self.run.cursor.state)
    }

    fn state_ref(&self) -> StateRef {
        let state = self.state();
        StateRef { state_type: StateType::of(&state.kind), name: state.name.clone() }
    }

    /// Adds Step Functions' prefix to the cause of a failure raised by the
    /// state's own data handling.
    fn in_state(&self, mut failure: Failure) -> Failure {
        if matches!(
            failure.error.as_str(),
            names::RUNTIME | names::INTRINSIC_FAILURE | names::RESULT_PATH_MATCH_FAILURE
        ) {
            failure.cause = format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                self.state().name,
                self.run.cursor.entered_event_id,
                failure.cause
            );
        }
        failure
    }

    fn context(&self, retry: bool, task_token: Option<&str>, map_item: Option<(u32, &Value)>) -> Value {
        let cursor = &self.run.cursor;
        context::build(
            self.exec,
            &StateContext {
                name: &self.state().name,
                entered_time_ms: cursor.entered_time_ms,
                retry_count: retry.then_some(cursor.retry_count),
                task_token,
                map_item,
                redrive_count: self.exec.redrive_count.max(self.run.redrive_count),
            },
        )
    }

    // ----- entering and running states -------------------------------------------------

    /// Records `<Type>StateEntered` and runs the state's first attempt.
    fn enter(&mut self) {
        let state_ref = self.state_ref();
        let input = self.run.cursor.input.to_string();
        let id = self.emit(EventDetails::StateEntered { state: state_ref, input });
        let cursor = &mut self.run.cursor;
        cursor.entered_event_id = id;
        cursor.entered_time_ms = self.ctx.now_ms;
        cursor.retry_counts.clear();
        cursor.retry_count = 0;
        self.attempt();
    }

    /// Runs the current state's action (again, after a retry interval).
    fn attempt(&mut self) {
        let state = self.state();
        let result = match &state.kind {
            StateKind::Pass(p) => self.run_pass(state, p),
            StateKind::Succeed => self.run_succeed(state),
            StateKind::Fail(f) => self.run_fail(f),
            StateKind::Choice(c) => self.run_choice(state, c),
            StateKind::Wait(w) => self.run_wait(state, w),
            StateKind::Task(t) => self.run_task(state, t),
            StateKind::Parallel(p) => self.run_parallel(state, p),
            StateKind::Map(m) => self.run_map(state, m),
        };
        if let Err(failure) = result {
            let failure = self.in_state(failure);
            self.handle_failure(failure, None);
        }
    }

    fn run_pass(&mut self, state: &State, pass: &PassState) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path)
            || uses_context(&state.output_path)
            || pass.parameters.as_ref().is_some_and(|t| t.uses_context());
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let result = {
            // InputPath applies (and can fail) even when Result replaces the effective input.
            let effective = select_input(&state.input_path, &self.run.cursor.input, &context)?;
            match (&pass.result, &pass.parameters) {
                (Some(literal), _) => literal.clone(),
                (None, Some(t)) => {
                    t.evaluate(&mut Env { input: &effective, context: &context, entropy: &mut *self.ctx.entropy })?
                }
                (None, None) => effective.into_owned(),
            }
        };
        self.complete(state, result, &pass.result_path, &context, false)?;
        self.go(pass_next(&state.kind));
        Ok(())
    }

    fn run_succeed(&mut self, state: &State) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path) || uses_context(&state.output_path);
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let input = std::mem::take(&mut self.run.cursor.input);
        let effective = select_owned(&state.input_path, input, &context)?;
        let output = select_owned(&state.output_path, effective, &context)?;
        let text = self.exited(state, &output)?;
        self.end_block(output, text);
        Ok(())
    }

    fn run_fail(&mut self, fail: &FailState) -> Result<(), Failure> {
        let needs =
            [&fail.error, &fail.cause].iter().any(|f| matches!(f, Some(TextField::Expr(e)) if e.uses_context()));
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let error = self.fail_text(fail.error.as_ref(), "ErrorPath", &context)?;
        let cause = self.fail_text(fail.cause.as_ref(), "CausePath", &context)?;
        self.fail_run(Failure { error, cause });
        Ok(())
    }

    fn fail_text(&mut self, field: Option<&TextField>, name: &str, context: &Value) -> Result<String, Failure> {
        match field {
            None => Ok(String::new()),
            Some(TextField::Literal(s)) => Ok(s.clone()),
            Some(TextField::Expr(e)) => {
                let value = e.evaluate(
                    name,
                    &mut Env { input: &self.run.cursor.input, context, entropy: &mut *self.ctx.entropy },
                )?;
                match value {
                    Value::String(s) => Ok(s),
                    other => Err(Failure::runtime(format!(
                        "The {name} field must reference a string value, but got '{other}'"
                    ))),
                }
            }
        }
    }

    fn run_choice(&mut self, state: &State, choice: &ChoiceState) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path)
            || uses_context(&state.output_path)
            || choice.choices.iter().any(|c| c.rule.uses_context());
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let input = std::mem::take(&mut self.run.cursor.input);
        let effective = select_owned(&state.input_path, input, &context)?;
        let mut next = choice.default;
        for branch in &choice.choices {
            if branch.rule.evaluate(&effective, &context)? {
                next = Some(branch.next);
                break;
            }
        }
        let Some(next) = next else {
            return Err(Failure::new(names::NO_CHOICE_MATCHED, "No Matches!"));
        };
        let output = select_owned(&state.output_path, effective, &context)?;
        let text = self.exited(state, &output)?;
        let _ = text;
        self.go_to(asl::definition::Next::State(next), output);
        Ok(())
    }

    fn run_wait(&mut self, state: &State, wait: &WaitState) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path) || uses_context(&state.output_path);
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let now = self.now();
        let due_ms = {
            let effective = select_input(&state.input_path, &self.run.cursor.input, &context)?;
            match wait {
                WaitState::Seconds { seconds, .. } => now.saturating_add((*seconds as i64).saturating_mul(1000)),
                WaitState::Timestamp { epoch_millis, .. } => *epoch_millis,
                WaitState::SecondsPath { path, .. } => {
                    let seconds = wait_seconds(path, &effective, &context)?;
                    now.saturating_add(seconds.saturating_mul(1000))
                }
                WaitState::TimestampPath { path, .. } => wait_timestamp(path, &effective, &context)?,
            }
        };
        if due_ms <= now {
            return self.exit_wait();
        }
        let timer = self.new_id();
        self.effects.push(Effect::StartTimer { timer, due_ms });
        self.run.cursor.phase = Phase::Waiting { timer };
        Ok(())
    }

    fn exit_wait(&mut self) -> Result<(), Failure> {
        let state = self.state();
        let StateKind::Wait(wait) = &state.kind else {
            return Err(Failure::runtime("internal: not a Wait state"));
        };
        let needs = uses_context(&state.input_path) || uses_context(&state.output_path);
        let context = if needs { self.context(false, None, None) } else { Value::Null };
        let input = std::mem::take(&mut self.run.cursor.input);
        let effective = select_owned(&state.input_path, input, &context)?;
        let output = select_owned(&state.output_path, effective, &context)?;
        self.exited(state, &output)?;
        self.go_to(wait.next(), output);
        Ok(())
    }

    fn run_task(&mut self, state: &State, task: &TaskState) -> Result<(), Failure> {
        let task_id = self.new_id();
        let token = (task.resource.pattern() == Pattern::WaitForTaskToken).then(|| self.new_token(task_id));
        let needs = uses_context(&state.input_path)
            || task.parameters.as_ref().is_some_and(|t| t.uses_context())
            || task.credentials.as_ref().is_some_and(|t| t.uses_context());
        let context = if needs { self.context(true, token.as_deref(), None) } else { Value::Null };
        let (input, timeout, heartbeat) = {
            let effective = select_input(&state.input_path, &self.run.cursor.input, &context)?;
            let timeout = seconds_field(task.timeout_seconds.as_ref(), "TimeoutSecondsPath", &effective, &context)?;
            let heartbeat =
                seconds_field(task.heartbeat_seconds.as_ref(), "HeartbeatSecondsPath", &effective, &context)?;
            let input = match &task.parameters {
                Some(t) => {
                    t.evaluate(&mut Env { input: &effective, context: &context, entropy: &mut *self.ctx.entropy })?
                }
                None => effective.into_owned(),
            };
            (input, timeout, heartbeat)
        };
        let text = input.to_string();
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(data_limit(&state.name));
        }
        let details = match &task.resource {
            Resource::LambdaFunction { arn } => EventDetails::LambdaFunctionScheduled {
                resource: arn.clone(),
                input: text,
                timeout_in_seconds: timeout,
            },
            Resource::Integration { .. } => EventDetails::TaskScheduled {
                task: task_ref(&task.resource),
                region: self.exec.region().to_string(),
                parameters: text,
                timeout_in_seconds: timeout,
                heartbeat_in_seconds: heartbeat,
            },
        };
        self.emit(details);
        let now = self.now();
        let timeout_timer = timeout.map(|_| self.new_id());
        if let (Some(timer), Some(seconds)) = (timeout_timer, timeout) {
            self.effects.push(Effect::StartTimer { timer, due_ms: now.saturating_add(seconds as i64 * 1000) });
        }
        let heartbeat = match heartbeat {
            Some(seconds) => {
                let timer = self.new_id();
                self.effects.push(Effect::StartTimer { timer, due_ms: now.saturating_add(seconds as i64 * 1000) });
                Some((timer, seconds))
            }
            None => None,
        };
        self.effects.push(Effect::InvokeTask(Box::new(TaskRequest {
            task_id,
            run: self.run.id.clone(),
            state: self.run.cursor.state,
            state_name: state.name.clone(),
            resource: task.resource.clone(),
            input,
            token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat.map(|(_, s)| s),
            retry_count: self.run.cursor.retry_count,
        })));
        self.run.cursor.phase = Phase::Task { task_id, token, started: false, timeout_timer, heartbeat };
        Ok(())
    }

    fn run_parallel(&mut self, state: &State, par: &ParallelState) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path) || par.parameters.as_ref().is_some_and(|t| t.uses_context());
        let context = if needs { self.context(true, None, None) } else { Value::Null };
        let input = {
            let effective = select_input(&state.input_path, &self.run.cursor.input, &context)?;
            match &par.parameters {
                Some(t) => {
                    t.evaluate(&mut Env { input: &effective, context: &context, entropy: &mut *self.ctx.entropy })?
                }
                None => effective.into_owned(),
            }
        };
        let started_event_id = self.emit(EventDetails::ParallelStateStarted);
        let generation = self.new_id();
        let total = par.branches.len() as u32;
        let tally = Tally { total, window: total };
        let children = par
            .branches
            .iter()
            .enumerate()
            .map(|(i, block)| ChildSpec {
                id: self.run.id.child(generation, i as u32),
                generation,
                index: i as u32,
                block: *block,
                input: input.clone(),
                map_state: None,
                first_prev: Prev::Parent(started_event_id),
                tally: Some(tally),
            })
            .collect();
        self.effects.push(Effect::StartChildren(children));
        self.run.cursor.phase = Phase::FanOut(Box::new(FanOut {
            generation,
            started_event_id,
            total,
            started: total,
            finished: Vec::new(),
            finished_count: 0,
            failed_count: 0,
            max_concurrency: 0,
            tolerated_count: None,
            tolerated_percentage: None,
            pending_items: Vec::new(),
            selector_input: None,
            last_child_event: Prev::Local(started_event_id),
            failure_prev: Prev::Local(started_event_id),
            collecting: false,
            aborting: None,
            tally: Some(tally),
        }));
        Ok(())
    }

    fn run_map(&mut self, state: &State, map: &MapState) -> Result<(), Failure> {
        let needs = uses_context(&state.input_path)
            || map.items_path.as_ref().is_some_and(|p| p.uses_context())
            || matches!(&map.max_concurrency, NumberField::Path(p) if p.uses_context());
        let context = if needs { self.context(true, None, None) } else { Value::Null };
        let effective = select_input(&state.input_path, &self.run.cursor.input, &context)?.into_owned();
        let items = match &map.items_path {
            None => effective.clone(),
            Some(path) => path.select(&effective, &context).map_err(|_| not_found(path))?.into_owned(),
        };
        let Value::Array(items) = items else {
            return Err(Failure::runtime(format!(
                "Map state input must be an array but was: {}",
                asl::eval::type_name(&items)
            )));
        };
        let max_concurrency = match &map.max_concurrency {
            NumberField::Literal(n) => *n,
            NumberField::Path(path) => {
                let value = path.select(&effective, &context).map_err(|_| not_found(path))?;
                value.as_u64().ok_or_else(|| {
                    Failure::runtime(format!(
                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {}",
                        plain(&value),
                        path.text()
                    ))
                })?
            }
        };
        let tolerated_count = match &map.tolerated_failure_count {
            None => None,
            Some(NumberField::Literal(n)) => Some(*n),
            Some(NumberField::Path(path)) => {
                let value = path.select(&effective, &context).map_err(|_| not_found(path))?;
                match value.as_i64() {
                    Some(n) if n < 0 => {
                        return Err(Failure::runtime("ToleratedFailureCount cannot be negative."));
                    }
                    Some(n) => Some(n as u64),
                    None => {
                        return Err(Failure::runtime(format!(
                            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: {}",
                            plain(&value),
                            path.text()
                        )));
                    }
                }
            }
        };
        let tolerated_percentage = match &map.tolerated_failure_percentage {
            None => None,
            Some(NumberField::Literal(p)) => Some(*p),
            Some(NumberField::Path(path)) => {
                let value = path.select(&effective, &context).map_err(|_| not_found(path))?;
                match value.as_f64() {
                    Some(p) if (0.0..=100.0).contains(&p) => Some(p),
                    _ => {
                        return Err(Failure::runtime("ToleratedFailurePercentage must be between 0 and 100."));
                    }
                }
            }
        };
        let total = items.len() as u32;
        let started_event_id = self.emit(EventDetails::MapStateStarted { length: total as u64 });
        if total == 0 {
            self.emit(EventDetails::MapStateSucceeded);
            return self.finish_fan_in(Value::Array(Vec::new()));
        }
        let generation = self.new_id();
        let default_window = match map.mode {
            asl::definition::MapMode::Inline => INLINE_MAP_WINDOW,
            asl::definition::MapMode::Distributed { .. } => DISTRIBUTED_MAP_WINDOW,
        };
        let window = match max_concurrency {
            0 => default_window.min(total),
            n => n.min(total as u64) as u32,
        };
        let tally = Tally { total, window };
        // Every item's input is built now (an ItemSelector that fails, fails
        // the state before any iteration starts); the items past the window
        // are staged, to be started by the iterations that make room for them.
        let mut children = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let input = self.item_input(map, index as u32, item, &effective)?;
            let first_prev = Prev::Parent(started_event_id);
            let mut spec = self.map_child(generation, index as u32, input, map.processor, first_prev);
            spec.tally = Some(tally);
            children.push(spec);
        }
        let staged = children.split_off(window as usize);
        if !staged.is_empty() {
            self.effects.push(Effect::StageChildren { generation, specs: staged });
        }
        self.effects.push(Effect::StartChildren(children));
        self.run.cursor.phase = Phase::FanOut(Box::new(FanOut {
            generation,
            started_event_id,
            total,
            started: window,
            finished: Vec::new(),
            finished_count: 0,
            failed_count: 0,
            max_concurrency: max_concurrency.min(u32::MAX as u64) as u32,
            tolerated_count,
            tolerated_percentage,
            pending_items: Vec::new(),
            selector_input: None,
            last_child_event: Prev::Local(started_event_id),
            failure_prev: Prev::Local(started_event_id),
            collecting: false,
            aborting: None,
            tally: Some(tally),
        }));
        Ok(())
    }

    /// The input of Map iteration `index`: the item, or the ItemSelector built over the Map's effective input.
    fn item_input(&mut self, map: &MapState, index: u32, item: Value, effective: &Value) -> Result<Value, Failure> {
        let Some(selector) = &map.item_selector else {
            return Ok(item);
        };
        let context =
            if selector.uses_context() { self.context(true, None, Some((index, &item))) } else { Value::Null };
        selector.evaluate(&mut Env { input: effective, context: &context, entropy: &mut *self.ctx.entropy })
    }

    fn map_child(&self, generation: u64, index: u32, input: Value, block: asl::BlockId, first_prev: Prev) -> ChildSpec {
        ChildSpec {
            id: self.run.id.child(generation, index),
            generation,
            index,
            block,
            input,
            map_state: Some(self.run.cursor.state),
            first_prev,
            tally: None,
        }
    }

    // ----- finishing states ------------------------------------------------------------

    /// Applies ResultPath and OutputPath to a state's result and records
    /// `<Type>StateExited`; leaves the output in the cursor for [`Self::go`].
    fn complete(
        &mut self,
        state: &State,
        result: Value,
        result_path: &ResultPath,
        context: &Value,
        keep_input: bool,
    ) -> Result<(), Failure> {
        let raw = if keep_input { self.run.cursor.input.clone() } else { std::mem::take(&mut self.run.cursor.input) };
        let combined = match result_path {
            ResultPath::Replace => result,
            ResultPath::Discard => raw,
            ResultPath::Path(path) => path.write(raw, result)?,
        };
        let output = select_owned(&state.output_path, combined, context)?;
        self.exited(state, &output)?;
        self.run.cursor.input = output;
        Ok(())
    }

    /// Records `<Type>StateExited` for `output`, refusing outputs over the payload limit.
    fn exited(&mut self, state: &State, output: &Value) -> Result<String, Failure> {
        let text = output.to_string();
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(data_limit(&state.name));
        }
        let state_ref = self.state_ref();
        self.emit(EventDetails::StateExited { state: state_ref, output: text.clone() });
        Ok(text)
    }

    /// Moves on from a completed state whose output is in the cursor.
    fn go(&mut self, next: asl::definition::Next) {
        let output = std::mem::take(&mut self.run.cursor.input);
        self.go_to(next, output);
    }

    fn go_to(&mut self, next: asl::definition::Next, output: Value) {
        match next {
            asl::definition::Next::State(id) => {
                let prev = self.run.cursor.prev;
                self.run.cursor = Cursor::ready(id, output, prev);
                self.effects.push(Effect::Continue { version: self.run.version + 1 });
            }
            asl::definition::Next::End => {
                let text = output.to_string();
                self.end_block(output, text);
            }
        }
    }

    /// The run reached the end of its block with `output`.
    fn end_block(&mut self, output: Value, text: String) {
        self.close_run(ChildOutcome::Succeeded(output), text);
    }

    /// The run fails with an uncaught error.
    fn fail_run(&mut self, failure: Failure) {
        if self.run.parent.is_some()
            && let Phase::FanOut(f) = &self.run.cursor.phase
            && !f.collecting
            && (f.tally.is_some() || f.finished_count < f.total)
        {
            self.effects.push(Effect::AbortChildren { generation: f.generation, total: f.total, tally: f.tally });
        }
        self.close_run(ChildOutcome::Failed(failure), String::new());
    }

    /// Ends the run: the root records `ExecutionSucceeded`/`ExecutionFailed`
    /// and closes the execution; a Map iteration records
    /// `MapIterationSucceeded`/`MapIterationFailed`; a child reports to its parent.
    fn close_run(&mut self, outcome: ChildOutcome, output_text: String) {
        let succeeded = matches!(outcome, ChildOutcome::Succeeded(_));
        self.run.status = if succeeded { RunStatus::Succeeded } else { RunStatus::Failed };
        self.run.cursor.phase = Phase::Ready;
        let Some(link) = self.run.parent.clone() else {
            self.emit(match outcome {
                ChildOutcome::Failed(f) => EventDetails::ExecutionFailed { error: f.error, cause: f.cause },
                _ => EventDetails::ExecutionSucceeded { output: output_text },
            });
            self.effects.push(Effect::Close { status: self.run.status });
            return;
        };
        let last_state = self.newest_event_id();
        if let Some(map_state) = link.map_state {
            let (name, index) = (self.def.state(map_state).name.clone(), link.index);
            self.emit(if succeeded {
                EventDetails::MapIterationSucceeded { name, index }
            } else {
                EventDetails::MapIterationFailed { name, index }
            });
        }
        self.report(&link, outcome, last_state);
    }

    /// Reports to the parent; `last_state_event_id` is the child's last event
    /// before its closing `MapIteration…` event (Step Functions points the
    /// parent's `MapStateFailed` and the next iteration's start there).
    fn report(&mut self, link: &ParentLink, outcome: ChildOutcome, last_state_event_id: u64) {
        let parent = self.run.id.parent().unwrap_or_default();
        self.effects.push(Effect::ReportToParent(Box::new(ChildReport {
            parent,
            generation: link.generation,
            index: link.index,
            outcome,
            last_event_id: self.run.last_event_id,
            last_state_event_id,
            tally: link.tally,
        })));
    }

    /// The id of this run's newest event (before a closing event is added).
    fn newest_event_id(&self) -> u64 {
        self.run.last_event_id
    }

    /// What Retry/Catch say about a failure of the current state.
    fn decide(&self, failure: &Failure, match_as: Option<&str>) -> Decision {
        let (retry, catch) = self.handlers();
        let name = match_as.unwrap_or(&failure.error);
        if let Some(i) = retry.iter().position(|r| r.matches(name)) {
            let used = self.run.cursor.retry_counts.get(i).copied().unwrap_or(0);
            if (used as u64) < retry[i].max_attempts {
                return Decision::Retry(i);
            }
        }
        match catch.iter().position(|c| c.matches(name)) {
            Some(i) => Decision::Catch(i),
            None => Decision::Fail,
        }
    }

    fn handlers(&self) -> (&'d [Retrier], &'d [Catcher]) {
        match &self.state().kind {
            StateKind::Task(t) => (&t.retry, &t.catch),
            StateKind::Parallel(p) => (&p.retry, &p.catch),
            StateKind::Map(m) => (&m.retry, &m.catch),
            _ => (&[], &[]),
        }
    }

    /// Retry, Catch, or fail the run. `match_as` overrides the name used for
    /// matching (a heartbeat timeout is recorded as `States.Timeout` but
    /// matched as `States.HeartbeatTimeout`).
    fn handle_failure(&mut self, failure: Failure, match_as: Option<&str>) {
        let decision = self.decide(&failure, match_as);
        self.act(decision, failure);
    }

    fn act(&mut self, decision: Decision, failure: Failure) {
        let state = self.state();
        let (retry, catch) = self.handlers();
        match decision {
            Decision::Retry(i) => {
                let counts = &mut self.run.cursor.retry_counts;
                if counts.len() < retry.len() {
                    counts.resize(retry.len(), 0);
                }
                let used = counts[i];
                counts[i] += 1;
                self.run.cursor.retry_count += 1;
                let unit = self.unit();
                let delay = retry[i].delay_millis(used, unit);
                let timer = self.new_id();
                let due_ms = self.now().saturating_add(delay.min(i64::MAX as u64) as i64);
                self.effects.push(Effect::StartTimer { timer, due_ms });
                self.run.cursor.phase = Phase::Backoff { timer };
            }
            Decision::Catch(i) => {
                let catcher = &catch[i];
                let error_output = json!({"Error": failure.error, "Cause": failure.cause});
                let raw = std::mem::take(&mut self.run.cursor.input);
                let combined = match &catcher.result_path {
                    ResultPath::Replace => error_output,
                    ResultPath::Discard => raw,
                    ResultPath::Path(path) => match path.write(raw, error_output) {
                        Ok(v) => v,
                        Err(f) => {
                            let f = self.in_state(f);
                            return self.fail_run(f);
                        }
                    },
                };
                if let Err(f) = self.exited(state, &combined) {
                    return self.fail_run(f);
                }
                self.run.cursor.phase = Phase::Ready;
                self.go_to(asl::definition::Next::State(catcher.next), combined);
            }
            Decision::Fail => self.fail_run(failure),
        }
    }

    // ----- events ---------------------------------------------------------------------

    fn on_task_result(&mut self, outcome: TaskOutcome) -> Result<(), Rejected> {
        let state = self.state();
        let StateKind::Task(task) = &state.kind else {
            return Err(Rejected::Stale("task result for a state that is not a Task"));
        };
        let Phase::Task { started, .. } = &mut self.run.cursor.phase else {
            return Err(Rejected::Stale("task result while no task runs"));
        };
        // A task is submitted once: a second submission is a duplicate invocation
        // (an at-least-once delivery redone), not news.
        if *started && matches!(outcome, TaskOutcome::Submitted(_)) {
            return Err(Rejected::Stale("the task was already submitted"));
        }
        let was_started = std::mem::replace(started, true);
        let lambda = matches!(task.resource, Resource::LambdaFunction { .. });
        if !was_started {
            self.emit(if lambda {
                EventDetails::LambdaFunctionStarted
            } else {
                EventDetails::TaskStarted { task: task_ref(&task.resource) }
            });
        }
        match outcome {
            TaskOutcome::Submitted(value) => {
                self.emit(EventDetails::TaskSubmitted { task: task_ref(&task.resource), output: value.to_string() });
            }
            TaskOutcome::Failed(failure) => {
                self.emit(if lambda {
                    EventDetails::LambdaFunctionFailed { error: failure.error.clone(), cause: failure.cause.clone() }
                } else {
                    EventDetails::TaskFailed {
                        task: task_ref(&task.resource),
                        error: failure.error.clone(),
                        cause: failure.cause.clone(),
                    }
                });
                self.handle_failure(failure, None);
            }
            TaskOutcome::Succeeded(value) => {
                let text = value.to_string();
                if text.len() > MAX_PAYLOAD_BYTES {
                    let failure = data_limit(&state.name);
                    self.handle_failure(failure, None);
                    return Ok(());
                }
                self.emit(if lambda {
                    EventDetails::LambdaFunctionSucceeded { output: text }
                } else {
                    EventDetails::TaskSucceeded { task: task_ref(&task.resource), output: text }
                });
                if let Err(failure) = self.finish_task(state, task, value) {
                    let failure = self.in_state(failure);
                    self.handle_failure(failure, None);
                }
            }
        }
        Ok(())
    }

    fn finish_task(&mut self, state: &State, task: &TaskState, result: Value) -> Result<(), Failure> {
        let needs = task.result_selector.as_ref().is_some_and(|t| t.uses_context()) || uses_context(&state.output_path);
        let context = if needs { self.context(true, None, None) } else { Value::Null };
        let result = match &task.result_selector {
            Some(t) => t.evaluate(&mut Env { input: &result, context: &context, entropy: &mut *self.ctx.entropy })?,
            None => result,
        };
        let keep =
            (!task.catch.is_empty() || !task.retry.is_empty()) && matches!(task.result_path, ResultPath::Path(_));
        self.complete(state, result, &task.result_path, &context, keep)?;
        self.run.cursor.phase = Phase::Ready;
        self.go(task.next);
        Ok(())
    }

    fn on_heartbeat(&mut self, task_id: u64) -> Result<(), Rejected> {
        let now = self.now();
        let timer = self.new_id();
        match &mut self.run.cursor.phase {
            Phase::Task { task_id: expected, heartbeat: Some((current, seconds)), .. } if *expected == task_id => {
                *current = timer;
                let due_ms = now.saturating_add(*seconds as i64 * 1000);
                self.effects.push(Effect::StartTimer { timer, due_ms });
                Ok(())
            }
            Phase::Task { task_id: expected, heartbeat: None, .. } if *expected == task_id => Ok(()),
            _ => Err(Rejected::Stale("heartbeat for a task that is not running")),
        }
    }

    fn on_timer(&mut self, timer: u64) -> Result<(), Rejected> {
        if self.run.execution_timer == Some(timer) {
            self.time_out_execution();
            return Ok(());
        }
        match &self.run.cursor.phase {
            Phase::Waiting { timer: t } if *t == timer => {
                if let Err(failure) = self.exit_wait() {
                    let failure = self.in_state(failure);
                    self.handle_failure(failure, None);
                }
            }
            Phase::Backoff { timer: t } if *t == timer => {
                self.run.cursor.phase = Phase::Ready;
                self.attempt();
            }
            Phase::Task { timeout_timer: Some(t), .. } if *t == timer => self.task_timed_out(false),
            Phase::Task { heartbeat: Some((t, _)), .. } if *t == timer => self.task_timed_out(true),
            _ => return Err(Rejected::Stale("timer of a state that was left")),
        }
        Ok(())
    }

    fn task_timed_out(&mut self, heartbeat: bool) {
        let state = self.state();
        let StateKind::Task(task) = &state.kind else {
            return;
        };
        let cause = if heartbeat { "Task heartbeat timed out." } else { "Task timed out." };
        let failure = Failure::new(names::TIMEOUT, cause);
        // The task was started when it was invoked, even if it never answered:
        // Step Functions records its Started event before the timeout.
        if matches!(self.run.cursor.phase, Phase::Task { started: false, .. }) {
            self.emit(match task.resource {
                Resource::LambdaFunction { .. } => EventDetails::LambdaFunctionStarted,
                Resource::Integration { .. } => EventDetails::TaskStarted { task: task_ref(&task.resource) },
            });
        }
        self.emit(match task.resource {
            Resource::LambdaFunction { .. } => {
                EventDetails::LambdaFunctionTimedOut { error: failure.error.clone(), cause: failure.cause.clone() }
            }
            Resource::Integration { .. } => EventDetails::TaskTimedOut {
                task: task_ref(&task.resource),
                error: failure.error.clone(),
                cause: failure.cause.clone(),
            },
        });
        self.run.cursor.phase = Phase::Ready;
        self.handle_failure(failure, heartbeat.then_some(names::HEARTBEAT_TIMEOUT));
    }

    fn on_child_finished(
        &mut self,
        generation: u64,
        index: u32,
        failure: Option<Failure>,
        last_event_id: u64,
        last_state_event_id: u64,
    ) -> Result<(), Rejected> {
        let Phase::FanOut(f) = &mut self.run.cursor.phase else {
            return Err(Rejected::Stale("child report while no children run"));
        };
        if f.generation != generation || f.collecting || index >= f.total || f.is_finished(index) {
            return Err(Rejected::Stale("duplicate or late child report"));
        }
        if f.tally.is_some() {
            return self.on_tallied_failure(index, failure, last_state_event_id);
        }
        f.mark_finished(index);
        f.last_child_event = Prev::Child { generation, index, id: last_event_id };
        self.run.last_event_id += last_event_id;
        let state = self.def.state(self.run.cursor.state);
        let is_map = matches!(state.kind, StateKind::Map(_));
        if let Some(pending) = f.aborting.clone() {
            // Already failing: wait until every started child has stopped.
            if f.finished_count == f.started {
                self.fail_fan_out(pending);
            }
            return Ok(());
        }
        let index_finished = index;
        let finished_at = Prev::Child { generation, index, id: last_state_event_id };
        if let Some(failure) = failure {
            f.failed_count += 1;
            if let Some(failure) = exceeded(f, is_map, failure) {
                f.failure_prev = finished_at;
                self.abort_fan_out(failure);
                return Ok(());
            }
        }
        if f.started < f.total
            && let (StateKind::Map(map), Some(item)) = (&state.kind, f.pending_items.pop())
        {
            {
                let index = f.started;
                f.started += 1;
                let selector_input = f.selector_input.clone().unwrap_or(Value::Null);
                // Step Functions chains the next iteration after the one that made room for it.
                let first_prev = Prev::Sibling { index: index_finished, id: last_state_event_id };
                match self.item_input(map, index, item, &selector_input) {
                    Ok(input) => {
                        let spec = self.map_child(generation, index, input, map.processor, first_prev);
                        self.effects.push(Effect::StartChildren(vec![spec]));
                    }
                    Err(failure) => {
                        let failure = self.in_state(failure);
                        if let Phase::FanOut(f) = &mut self.run.cursor.phase {
                            f.failure_prev = finished_at;
                        }
                        self.abort_fan_out(failure);
                        return Ok(());
                    }
                }
            }
        }
        if let Phase::FanOut(f) = &mut self.run.cursor.phase
            && f.finished_count == f.total
        {
            f.collecting = true;
            self.effects.push(Effect::CollectChildren { generation, total: f.total, tally: None });
        }
        Ok(())
    }

    /// A Parallel or Map state fails: stop the children still running and
    /// fail once they have stopped (at once when none runs).
    fn abort_fan_out(&mut self, failure: Failure) {
        let Phase::FanOut(f) = &mut self.run.cursor.phase else {
            return self.handle_failure(failure, None);
        };
        if f.finished_count == f.started {
            return self.fail_fan_out(failure);
        }
        f.aborting = Some(failure);
        self.effects.push(Effect::AbortChildren { generation: f.generation, total: f.started, tally: None });
    }

    /// Records `ParallelStateFailed` / `MapStateFailed` after the last child, then Retry/Catch/fail.
    /// Before a retry Step Functions records no `…StateFailed`: the new
    /// `…StateStarted` follows the failure directly.
    fn fail_fan_out(&mut self, failure: Failure) {
        if let Phase::FanOut(f) = &self.run.cursor.phase {
            self.run.cursor.prev = f.failure_prev;
        }
        self.run.cursor.phase = Phase::Ready;
        let decision = self.decide(&failure, None);
        if !matches!(decision, Decision::Retry(_)) {
            let is_map = matches!(self.state().kind, StateKind::Map(_));
            self.emit(if is_map { EventDetails::MapStateFailed } else { EventDetails::ParallelStateFailed });
        }
        self.act(decision, failure);
    }

    /// A child of a tallied fan-out failed (its success needs no parent
    /// step): count it, and fail the state once the failures exceed what it
    /// tolerates — first stopping the children still running, whose ends the
    /// tally reports as [`Event::ChildrenDone`]. A failed child does not
    /// start the sibling it made room for: the parent does, once it knows the
    /// failure is tolerated (a failing fan-out counts that sibling's chain as
    /// ended instead), so that a Map stops starting items at the failure
    /// that fails it.
    fn on_tallied_failure(
        &mut self,
        index: u32,
        failure: Option<Failure>,
        last_state_event_id: u64,
    ) -> Result<(), Rejected> {
        let is_map = matches!(self.state().kind, StateKind::Map(_));
        let Phase::FanOut(f) = &mut self.run.cursor.phase else {
            return Err(Rejected::Stale("child report while no children run"));
        };
        let (Some(failure), Some(tally)) = (failure, f.tally) else {
            return Err(Rejected::Stale("a tallied child's success is collected, not reported"));
        };
        let generation = f.generation;
        f.mark_finished(index);
        if f.aborting.is_none() {
            f.failed_count += 1;
            if let Some(failure) = exceeded(f, is_map, failure) {
                f.failure_prev = Prev::Child { generation, index, id: last_state_event_id };
                f.aborting = Some(failure);
                self.effects.push(Effect::AbortChildren { generation, total: f.total, tally: Some(tally) });
            }
        }
        if let Some(next) = tally.successor(index) {
            let after = Prev::Sibling { index, id: last_state_event_id };
            self.effects.push(Effect::StartStaged { generation, index: next, tally, after });
        }
        Ok(())
    }

    /// Every child of a tallied fan-out ended: collect their outcomes.
    fn on_children_done(&mut self, generation: u64, index: u32, last_event_id: u64) -> Result<(), Rejected> {
        let Phase::FanOut(f) = &mut self.run.cursor.phase else {
            return Err(Rejected::Stale("children done while no children run"));
        };
        if f.generation != generation || f.collecting || f.tally.is_none() {
            return Err(Rejected::Stale("children done of another generation, or again"));
        }
        f.collecting = true;
        f.last_child_event = Prev::Child { generation, index, id: last_event_id };
        self.effects.push(Effect::CollectChildren { generation, total: f.total, tally: f.tally });
        Ok(())
    }

    fn on_children_collected(
        &mut self,
        generation: u64,
        results: Vec<ChildOutcome>,
        marks: Vec<ChildMark>,
    ) -> Result<(), Rejected> {
        let is_map = matches!(self.state().kind, StateKind::Map(_));
        let Phase::FanOut(f) = &mut self.run.cursor.phase else {
            return Err(Rejected::Stale("children results while no children run"));
        };
        if f.generation != generation || !f.collecting || results.len() != f.total as usize {
            return Err(Rejected::Stale("children results of another generation"));
        }
        if f.tally.is_some() {
            if marks.len() != results.len() {
                return Err(Rejected::Stale("tallied children results without their event ids"));
            }
            self.run.last_event_id += marks.iter().map(|m| m.last_event_id).sum::<u64>();
            // The failures the state has not acted on yet (a failure's report
            // can arrive after the tally completed) decide it now.
            let failing = f.aborting.clone().or_else(|| {
                let mut failed = results.iter().enumerate().filter_map(|(i, r)| match r {
                    ChildOutcome::Failed(failure) => Some((i, failure)),
                    _ => None,
                });
                let first = failed.next()?;
                f.failed_count = 1 + failed.count() as u32;
                let failure = exceeded(f, is_map, first.1.clone())?;
                let id = marks[first.0].last_state_event_id;
                f.failure_prev = Prev::Child { generation, index: first.0 as u32, id };
                Some(failure)
            });
            if let Some(failure) = failing {
                self.fail_fan_out(failure);
                return Ok(());
            }
        }
        let last_child = f.last_child_event;
        self.run.cursor.prev = last_child;
        let is_map = matches!(self.state().kind, StateKind::Map(_));
        self.emit(if is_map { EventDetails::MapStateSucceeded } else { EventDetails::ParallelStateSucceeded });
        // Step Functions points the Exited event at the last child's event too.
        self.run.cursor.prev = last_child;
        self.run.cursor.phase = Phase::Ready;
        let values = results
            .into_iter()
            .map(|r| match r {
                ChildOutcome::Succeeded(v) => v,
                ChildOutcome::Failed(f) => json!({"Error": f.error, "Cause": f.cause}),
                ChildOutcome::Aborted => Value::Null,
            })
            .collect();
        if let Err(failure) = self.finish_fan_in(Value::Array(values)) {
            let failure = self.in_state(failure);
            self.handle_failure(failure, None);
        }
        Ok(())
    }

    /// ResultSelector, ResultPath and OutputPath of a Parallel or Map state, then on.
    fn finish_fan_in(&mut self, result: Value) -> Result<(), Failure> {
        let state = self.state();
        let (selector, result_path, next, has_handlers) = match &state.kind {
            StateKind::Parallel(p) => {
                (&p.result_selector, &p.result_path, p.next, !p.catch.is_empty() || !p.retry.is_empty())
            }
            StateKind::Map(m) => {
                (&m.result_selector, &m.result_path, m.next, !m.catch.is_empty() || !m.retry.is_empty())
            }
            _ => return Err(Failure::runtime("internal: not a Parallel or Map state")),
        };
        let needs = selector.as_ref().is_some_and(|t| t.uses_context()) || uses_context(&state.output_path);
        let context = if needs { self.context(true, None, None) } else { Value::Null };
        let result = match selector {
            Some(t) => t.evaluate(&mut Env { input: &result, context: &context, entropy: &mut *self.ctx.entropy })?,
            None => result,
        };
        let keep = has_handlers && matches!(result_path, ResultPath::Path(_));
        self.run.cursor.phase = Phase::Ready;
        self.complete(state, result, result_path, &context, keep)?;
        self.go(next);
        Ok(())
    }

    fn abort_child(&mut self) -> Result<(), Rejected> {
        let Some(link) = self.run.parent.clone() else {
            return Err(Rejected::Stale("abort is for child runs; the root is stopped"));
        };
        self.abort_current_state();
        if let Some(map_state) = link.map_state {
            let name = self.def.state(map_state).name.clone();
            self.emit(EventDetails::MapIterationAborted { name, index: link.index });
        }
        self.run.status = RunStatus::Aborted;
        let last = self.newest_event_id();
        self.report(&link, ChildOutcome::Aborted, last);
        Ok(())
    }

    /// Records `<Type>StateAborted` for an entered state and stops its children.
    fn abort_current_state(&mut self) {
        let state = self.state();
        if let Phase::FanOut(f) = &self.run.cursor.phase {
            self.effects.push(Effect::AbortChildren { generation: f.generation, total: f.total, tally: f.tally });
        }
        let entered = self.run.cursor.phase != Phase::Ready;
        if entered && has_aborted_event(&state.kind) {
            let state_ref = self.state_ref();
            self.emit(EventDetails::StateAborted { state: state_ref });
        }
        self.run.cursor.phase = Phase::Ready;
    }

    fn stop(&mut self, error: Option<String>, cause: Option<String>) -> Result<(), Rejected> {
        if self.run.parent.is_some() {
            return Err(Rejected::Stale("stop is for the root run; children are aborted"));
        }
        // Children of a closed execution stop with it: nothing is delivered to them any more.
        self.run.cursor.phase = Phase::Ready;
        self.run.cursor.prev = Prev::None;
        self.emit(EventDetails::ExecutionAborted { error, cause });
        self.run.status = RunStatus::Aborted;
        self.effects.push(Effect::Close { status: RunStatus::Aborted });
        Ok(())
    }

    /// Runs an ended execution again from the state that ended it, with
    /// that state's input. A Parallel or Map state runs all its branches or
    /// items again (Step Functions reruns only the unsuccessful ones).
    fn redrive(&mut self) {
        self.run.redrive_count += 1;
        self.run.status = RunStatus::Running;
        self.run.cursor.phase = Phase::Ready;
        self.run.cursor.retry_count = 0;
        self.run.cursor.retry_counts.clear();
        self.run.cursor.prev = Prev::Local(self.run.last_event_id);
        self.emit(EventDetails::ExecutionRedriven { redrive_count: self.run.redrive_count });
        self.enter();
    }

    fn time_out_execution(&mut self) {
        // Children of a closed execution stop with it: nothing is delivered to them any more.
        self.run.cursor.phase = Phase::Ready;
        self.emit(EventDetails::ExecutionTimedOut {
            error: names::TIMEOUT.to_string(),
            cause: "The execution ran longer than the state machine's TimeoutSeconds.".to_string(),
        });
        self.run.status = RunStatus::TimedOut;
        self.effects.push(Effect::Close { status: RunStatus::TimedOut });
    }
}

// ----- data flow helpers ----------------------------------------------------------------

/// The failure a fan-out fails with after its `failed_count`-th failure
/// (`failure`), or `None` while it tolerates them: a Parallel state and a Map
/// without tolerance fail on the first, with the child's own error; a Map
/// with a tolerance fails past it with `States.ExceedToleratedFailureThreshold`.
fn exceeded(f: &FanOut, is_map: bool, failure: Failure) -> Option<Failure> {
    let tolerant = f.tolerated_count.is_some() || f.tolerated_percentage.is_some();
    let over = !is_map
        || !tolerant
        || f.tolerated_count.is_some_and(|c| f.failed_count as u64 > c)
        || f.tolerated_percentage.is_some_and(|p| f.failed_count as f64 * 100.0 / f.total as f64 > p);
    match (over, is_map && tolerant) {
        (false, _) => None,
        (true, true) => Some(Failure::new(
            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )),
        (true, false) => Some(failure),
    }
}

fn uses_context(field: &PathField) -> bool {
    matches!(field, PathField::Path(p) if p.uses_context())
}

fn pass_next(kind: &StateKind) -> asl::definition::Next {
    match kind {
        StateKind::Pass(p) => p.next,
        _ => asl::definition::Next::End,
    }
}

fn not_found(path: &asl::path::Path) -> Failure {
    Failure::runtime(format!("Invalid path '{}' : No results for path: {}", path.text(), path.normalized()))
}

/// InputPath (or OutputPath) over a borrowed document.
fn select_input<'v>(field: &PathField, input: &'v Value, context: &'v Value) -> Result<Cow<'v, Value>, Failure> {
    match field {
        PathField::Whole => Ok(Cow::Borrowed(input)),
        PathField::Null => Ok(Cow::Owned(Value::Object(serde_json::Map::new()))),
        PathField::Path(path) => path.select(input, context).map_err(|_| not_found(path)),
    }
}

/// InputPath (or OutputPath) over an owned document, without cloning when the field is `$`.
fn select_owned(field: &PathField, input: Value, context: &Value) -> Result<Value, Failure> {
    match field {
        PathField::Whole => Ok(input),
        PathField::Null => Ok(Value::Object(serde_json::Map::new())),
        PathField::Path(path) => path.select(&input, context).map(Cow::into_owned).map_err(|_| not_found(path)),
    }
}

fn data_limit(state: &str) -> Failure {
    Failure::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

fn task_ref(resource: &Resource) -> TaskRef {
    TaskRef { resource_type: resource.resource_type().to_string(), resource: resource.resource_name() }
}

/// A value as Step Functions quotes it in messages: strings without their quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `TimeoutSecondsPath` / `HeartbeatSecondsPath`: a positive integer.
fn seconds_field(
    field: Option<&NumberField<u64>>,
    name: &str,
    input: &Value,
    context: &Value,
) -> Result<Option<u64>, Failure> {
    match field {
        None => Ok(None),
        Some(NumberField::Literal(n)) => Ok(Some(*n)),
        Some(NumberField::Path(path)) => {
            let value = path.select(input, context).map_err(|_| not_found(path))?;
            match value.as_u64() {
                Some(n) if n > 0 => Ok(Some(n)),
                _ => Err(Failure::runtime(format!(
                    "The {name} field refers to value \"{}\" which is not a valid positive integer: {}",
                    plain(&value),
                    path.text()
                ))),
            }
        }
    }
}

/// `SecondsPath`: a non-negative integer.
fn wait_seconds(path: &asl::path::Path, input: &Value, context: &Value) -> Result<i64, Failure> {
    let value = path.select(input, context).map_err(|_| {
        Failure::runtime(format!("The SecondsPath parameter does not reference an input value: {}", path.text()))
    })?;
    match value.as_ref() {
        Value::Number(n) if n.as_i64().is_some_and(|v| v < 0) => Err(Failure::runtime(format!(
            "The SecondsPath parameter references a negative value: {} == {}",
            path.text(),
            n
        ))),
        Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or(0)),
        other => Err(Failure::runtime(format!(
            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
            path.text(),
            other
        ))),
    }
}

/// `TimestampPath`: an RFC 3339 timestamp string.
fn wait_timestamp(path: &asl::path::Path, input: &Value, context: &Value) -> Result<i64, Failure> {
    let value = path.select(input, context).map_err(|_| {
        Failure::runtime(format!("The TimestampPath parameter does not reference an input value: {}", path.text()))
    })?;
    value.as_str().and_then(asl::timestamp::parse_epoch_millis).ok_or_else(|| {
        Failure::runtime(format!(
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
            path.text(),
            value
        ))
    })
}
