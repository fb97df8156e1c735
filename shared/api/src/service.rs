//! The Step Functions actions, over the store, catalog and carrier ports.
//! The api Lambda and `switchyard serve` both answer through [`Api::call`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use asl::{Definition, Failure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use engine::{Ctx, Event, EventDetails, ExecutionInfo, Phase, RunId, RunStatus, TaskOutcome};
use runtime::catalog::{Catalog, StateMachine};
use runtime::driver::{self, Applied, Delivery};
use runtime::entropy::OsEntropy;
use runtime::render::{self, Timestamps};
use runtime::stepper::Carrier;
use runtime::{Clock, StateStore, StoreError};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::fields::Fields;
use crate::names::{check_name, parse_arn};

/// Step Functions' limit on execution input, task output and state data: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// Where the API answers for: the region and account its ARNs carry, and
/// the base URL of its callback routes (given to executions as `$$.Task.CallbackUrl`).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The region in ARNs, e.g. `us-east-1`.
    pub region: String,
    /// The account in ARNs, e.g. `123456789012`.
    pub account: String,
    /// `https://…/prod` or `http://127.0.0.1:8083`: callbacks are `<base>/callbacks/<token>/success`.
    pub callback_base_url: Option<String>,
    /// The Task resources this deployment runs, and how to say so: a
    /// definition with another is refused at Create/UpdateStateMachine.
    pub resources: Option<ResourcePolicy>,
}

/// What [`Api::start`] starts.
#[derive(Debug, Clone)]
pub struct StartRequest<'a> {
    /// The state machine.
    pub machine_arn: &'a str,
    /// The execution name (a UUID when `None`).
    pub name: Option<String>,
    /// The execution input, JSON text.
    pub input: &'a str,
    /// The callback base URL the execution sees (the API's own when `None`).
    pub callback_base_url: Option<String>,
    /// The parent task, for a nested execution.
    pub started_by: Option<engine::StartedBy>,
}

/// An execution [`Api::start`] started (or found started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its ARN.
    pub execution_arn: String,
    /// When it started (ms since epoch).
    pub start_ms: i64,
}

/// Which Task resources a deployment can run.
#[derive(Debug, Clone, Copy)]
pub struct ResourcePolicy {
    /// Whether a resource is run.
    pub supports: fn(&asl::resource::Resource) -> bool,
    /// What is run, in words, for the error message.
    pub described: &'static str,
}

/// Every Task `Resource` of a definition with its JSON pointer, in document order.
fn task_resources(value: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    let escape = |name: &str| name.replace('~', "~0").replace('/', "~1");
    let Some(states) = value.get("States").and_then(Value::as_object) else { return };
    for (name, state) in states {
        let at = format!("{pointer}/States/{}", escape(name));
        if state.get("Type").and_then(Value::as_str) == Some("Task")
            && let Some(resource) = state.get("Resource").and_then(Value::as_str)
        {
            out.push((format!("{at}/Resource"), resource.to_string()));
        }
        for (i, branch) in state.get("Branches").and_then(Value::as_array).into_iter().flatten().enumerate() {
            task_resources(branch, &format!("{at}/Branches/{i}"), out);
        }
        for field in ["ItemProcessor", "Iterator"] {
            if let Some(inner) = state.get(field) {
                task_resources(inner, &format!("{at}/{field}"), out);
            }
        }
    }
}

/// The API over a store `S` (executions and catalog) and a carrier `C` that
/// hands deliveries to the stepper.
pub struct Api<S, C> {
    store: Arc<S>,
    carrier: C,
    clock: Clock,
    config: ApiConfig,
    /// Parsed definitions by (state machine, revision): a definition is
    /// validated once per revision, not once per StartExecution.
    parsed: Mutex<HashMap<(String, String), Arc<Definition>>>,
}

fn date(ms: i64) -> Value {
    render::timestamp(ms, Timestamps::EpochSeconds)
}

fn machine_missing(arn: &str) -> ApiError {
    ApiError::new("StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{arn}'"))
}

fn task_timed_out() -> ApiError {
    ApiError::new("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
}

fn invalid_token() -> ApiError {
    ApiError::new("InvalidToken", "Invalid Token: 'Invalid token'")
}

/// `InvalidDefinition` with every problem, each with its JSON pointer.
fn invalid_definition(errors: &[asl::ValidationError]) -> ApiError {
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    ApiError::new("InvalidDefinition", format!("Invalid State Machine Definition: '{}'", all.join(", ")))
}

fn page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn page_offset(token: Option<&str>) -> Result<usize, ApiError> {
    let Some(token) = token else { return Ok(0) };
    let invalid = || ApiError::new("InvalidToken", format!("Invalid Token: '{token}'"));
    let text = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    text.strip_prefix("offset:").and_then(|n| n.parse().ok()).ok_or_else(invalid)
}

impl<S: StateStore + Catalog, C: Carrier> Api<S, C> {
    /// An API over these ports.
    pub fn new(store: Arc<S>, carrier: C, clock: Clock, config: ApiConfig) -> Self {
        Api { store, carrier, clock, config, parsed: Mutex::new(HashMap::new()) }
    }

    /// The API's clock, in ms since epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Answers one action (`X-Amz-Target: AWSStepFunctions.<action>`) with the JSON body it returns.
    pub async fn call(&self, action: &str, body: &[u8]) -> Result<Value, ApiError> {
        match action {
            "CreateStateMachine" => {
                self.create_state_machine(Fields::parse(body, &["name", "definition", "roleArn", "type"])?).await
            }
            "DescribeStateMachine" => self.describe_state_machine(Fields::parse(body, &["stateMachineArn"])?).await,
            "UpdateStateMachine" => {
                self.update_state_machine(Fields::parse(body, &["stateMachineArn", "definition", "roleArn"])?).await
            }
            "DeleteStateMachine" => self.delete_state_machine(Fields::parse(body, &["stateMachineArn"])?).await,
            "ListStateMachines" => self.list_state_machines(Fields::parse(body, &["maxResults", "nextToken"])?).await,
            "ValidateStateMachineDefinition" => {
                self.validate_definition(Fields::parse(body, &["definition", "type", "severity", "maxResults"])?)
            }
            "StartExecution" => self.start_execution(Fields::parse(body, &["stateMachineArn", "name", "input"])?).await,
            "DescribeExecution" => {
                self.describe_execution(Fields::parse(body, &["executionArn", "includedData"])?).await
            }
            "DescribeStateMachineForExecution" => {
                self.describe_machine_for_execution(Fields::parse(body, &["executionArn"])?).await
            }
            "ListExecutions" => {
                self.list_executions(Fields::parse(
                    body,
                    &["stateMachineArn", "statusFilter", "maxResults", "nextToken"],
                )?)
                .await
            }
            "StopExecution" => self.stop_execution(Fields::parse(body, &["executionArn", "error", "cause"])?).await,
            "GetExecutionHistory" => {
                self.history(Fields::parse(
                    body,
                    &["executionArn", "maxResults", "reverseOrder", "nextToken", "includeExecutionData"],
                )?)
                .await
            }
            "SendTaskSuccess" => {
                let f = Fields::parse(body, &["taskToken", "output"])?;
                let token = f.required("taskToken")?;
                let output = f.required("output")?;
                self.send_task_success(token, output).await.map(|()| json!({}))
            }
            "SendTaskFailure" => {
                let f = Fields::parse(body, &["taskToken", "error", "cause"])?;
                let token = f.required("taskToken")?;
                let failure = Failure::new(
                    f.bounded("error", 256)?.unwrap_or_default(),
                    f.bounded("cause", 32_768)?.unwrap_or_default(),
                );
                self.send_task_failure(token, failure).await.map(|()| json!({}))
            }
            "SendTaskHeartbeat" => {
                let f = Fields::parse(body, &["taskToken"])?;
                self.send_task_heartbeat(f.required("taskToken")?).await.map(|()| json!({}))
            }
            "RedriveExecution" => self.redrive_execution(Fields::parse(body, &["executionArn", "clientToken"])?).await,
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!("The action '{other}' is not an action of AWSStepFunctions served by Switchyard"),
            )),
        }
    }

    fn machine_arn(&self, name: &str) -> String {
        format!("arn:aws:states:{}:{}:stateMachine:{name}", self.config.region, self.config.account)
    }

    async fn machine(&self, arn: &str) -> Result<StateMachine, ApiError> {
        parse_arn(arn, "stateMachine")?;
        self.store.machine(arn).await?.ok_or_else(|| machine_missing(arn))
    }

    fn parse_definition(&self, text: &str) -> Result<Definition, ApiError> {
        asl::parse_definition_str(text).map_err(|errors| invalid_definition(&errors))
    }

    /// Parses a definition for a state machine and checks this deployment runs its Task resources.
    fn accept_definition(&self, text: &str) -> Result<Definition, ApiError> {
        let definition = self.parse_definition(text)?;
        if let Some(policy) = &self.config.resources {
            let mut found = Vec::new();
            task_resources(&serde_json::from_str(text).unwrap_or(Value::Null), "", &mut found);
            let refused: Vec<String> = found
                .iter()
                .filter(|(_, r)| asl::resource::Resource::parse(r).is_ok_and(|r| !(policy.supports)(&r)))
                .map(|(at, r)| {
                    format!(
                        "UNSUPPORTED_FEATURE: The resource {r} is not run by this Switchyard deployment ({}) at {at}",
                        policy.described
                    )
                })
                .collect();
            if !refused.is_empty() {
                return Err(ApiError::new(
                    "InvalidDefinition",
                    format!("Invalid State Machine Definition: '{}'", refused.join(", ")),
                ));
            }
        }
        Ok(definition)
    }

    fn definition_of(&self, machine: &StateMachine) -> Result<Arc<Definition>, ApiError> {
        let key = (machine.arn.clone(), machine.revision_id.clone());
        if let Some(d) = self.parsed.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(d.clone());
        }
        let parsed = Arc::new(self.parse_definition(&machine.definition)?);
        self.parsed.lock().unwrap_or_else(|e| e.into_inner()).insert(key, parsed.clone());
        Ok(parsed)
    }

    fn check_type(f: &Fields) -> Result<(), ApiError> {
        match f.one_of("type", &["STANDARD", "EXPRESS"])? {
            Some("EXPRESS") => Err(ApiError::new(
                "StateMachineTypeNotSupported",
                "Switchyard runs STANDARD state machines; EXPRESS is not supported",
            )),
            _ => Ok(()),
        }
    }

    async fn create_state_machine(&self, f: Fields) -> Result<Value, ApiError> {
        let name = f.required("name")?;
        let definition = f.required("definition")?;
        let role_arn = f.required("roleArn")?;
        Self::check_type(&f)?;
        check_name(name)?;
        self.accept_definition(definition)?;
        let machine = StateMachine {
            arn: self.machine_arn(name),
            name: name.to_string(),
            definition: definition.to_string(),
            role_arn: role_arn.to_string(),
            machine_type: "STANDARD".to_string(),
            created_ms: self.clock.now_ms(),
            updated_ms: None,
            revision_id: uuid::Uuid::new_v4().to_string(),
        };
        if !self.store.create_machine(&machine).await? {
            // Idempotent on the same definition (and type); a different one conflicts.
            let existing = self.store.machine(&machine.arn).await?;
            match existing {
                Some(m) if m.definition == machine.definition => {
                    return Ok(json!({"stateMachineArn": m.arn, "creationDate": date(m.created_ms)}));
                }
                _ => {
                    return Err(ApiError::new(
                        "StateMachineAlreadyExists",
                        format!("State Machine Already Exists: '{}'", machine.arn),
                    ));
                }
            }
        }
        Ok(json!({"stateMachineArn": machine.arn, "creationDate": date(machine.created_ms)}))
    }

    async fn describe_state_machine(&self, f: Fields) -> Result<Value, ApiError> {
        let m = self.machine(f.required("stateMachineArn")?).await?;
        Ok(json!({
            "stateMachineArn": m.arn,
            "name": m.name,
            "status": "ACTIVE",
            "definition": m.definition,
            "roleArn": m.role_arn,
            "type": m.machine_type,
            "creationDate": date(m.created_ms),
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false},
            "revisionId": m.revision_id,
        }))
    }

    async fn update_state_machine(&self, f: Fields) -> Result<Value, ApiError> {
        let mut m = self.machine(f.required("stateMachineArn")?).await?;
        let definition = f.string("definition")?;
        let role_arn = f.string("roleArn")?;
        if definition.is_none() && role_arn.is_none() {
            return Err(ApiError::new(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
            ));
        }
        if let Some(d) = definition {
            self.accept_definition(d)?;
            m.definition = d.to_string();
        }
        if let Some(r) = role_arn {
            m.role_arn = r.to_string();
        }
        let now = self.clock.now_ms();
        m.updated_ms = Some(now);
        m.revision_id = uuid::Uuid::new_v4().to_string();
        self.store.put_machine(&m).await?;
        Ok(json!({"updateDate": date(now), "revisionId": m.revision_id}))
    }

    async fn delete_state_machine(&self, f: Fields) -> Result<Value, ApiError> {
        let arn = f.required("stateMachineArn")?;
        parse_arn(arn, "stateMachine")?;
        self.store.delete_machine(arn).await?;
        Ok(json!({}))
    }

    async fn list_state_machines(&self, f: Fields) -> Result<Value, ApiError> {
        let limit = f.max_results(100)?;
        let page = self.store.list_machines(limit, f.string("nextToken")?).await?;
        let machines: Vec<Value> = page
            .items
            .iter()
            .map(|m| {
                json!({"stateMachineArn": m.arn, "name": m.name, "type": m.machine_type, "creationDate": date(m.created_ms)})
            })
            .collect();
        let mut out = json!({"stateMachines": machines});
        if let Some(next) = page.next {
            out["nextToken"] = Value::String(next);
        }
        Ok(out)
    }

    fn validate_definition(&self, f: Fields) -> Result<Value, ApiError> {
        let definition = f.required("definition")?;
        f.one_of("type", &["STANDARD", "EXPRESS"])?;
        f.one_of("severity", &["ERROR", "WARNING"])?;
        let limit = f.max_results(100)?;
        let errors = match asl::parse_definition_str(definition) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        };
        let diagnostics: Vec<Value> = errors
            .iter()
            .take(limit)
            .map(|e| json!({"severity": "ERROR", "code": e.code.as_str(), "message": e.message, "location": e.pointer}))
            .collect();
        Ok(json!({
            "result": if errors.is_empty() { "OK" } else { "FAIL" },
            "diagnostics": diagnostics,
            "truncated": errors.len() > limit,
        }))
    }

    async fn start_execution(&self, f: Fields) -> Result<Value, ApiError> {
        let machine_arn = f.required("stateMachineArn")?;
        let name = f.string("name")?.map(str::to_string);
        let input = f.string("input")?.unwrap_or("{}");
        let started =
            self.start(StartRequest { machine_arn, name, input, callback_base_url: None, started_by: None }).await?;
        Ok(json!({"executionArn": started.execution_arn, "startDate": date(started.start_ms)}))
    }

    /// Starts an execution (StartExecution, or a nested execution's Task
    /// state): creates it, idempotently, and hands its start to the stepper.
    pub async fn start(&self, request: StartRequest<'_>) -> Result<Started, ApiError> {
        let machine = self.machine(request.machine_arn).await?;
        let name = request.name.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        check_name(&name)?;
        let text = request.input;
        if text.len() > MAX_PAYLOAD_BYTES {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
            )));
        }
        let input: Value = serde_json::from_str(text).map_err(|e| {
            ApiError::new("InvalidExecutionInput", format!("Invalid State Machine Execution Input: '{e}'"))
        })?;
        let definition = self.definition_of(&machine)?;
        let execution_arn =
            format!("arn:aws:states:{}:{}:execution:{}:{name}", self.config.region, self.config.account, machine.name);
        let info = ExecutionInfo {
            execution_arn: execution_arn.clone(),
            name,
            state_machine_arn: machine.arn.clone(),
            state_machine_name: machine.name.clone(),
            role_arn: machine.role_arn.clone(),
            input: input.clone(),
            start_time_ms: self.clock.now_ms(),
            redrive_count: 0,
            callback_base_url: request.callback_base_url.or_else(|| self.config.callback_base_url.clone()),
            started_by: request.started_by.clone(),
        };
        let start_ms = info.start_time_ms;
        let start_ms = match self.store.create_execution(info, definition, machine.definition.clone()).await {
            Ok(()) => start_ms,
            Err(StoreError::ExecutionAlreadyExists(arn)) => {
                // Idempotent while RUNNING with the same input (the start is
                // handed over again: a caller retrying may have lost it), and
                // for a repeated start by the same parent task attempt.
                let record = self.store.execution(&arn).await?;
                let same_parent = request.started_by.is_some() && record.info.started_by == request.started_by;
                if !same_parent && (record.summary.status != RunStatus::Running || record.info.input != input) {
                    return Err(StoreError::ExecutionAlreadyExists(arn).into());
                }
                record.info.start_time_ms
            }
            Err(e) => return Err(e.into()),
        };
        self.carry(Delivery::start(&execution_arn)).await?;
        Ok(Started { execution_arn, start_ms })
    }

    async fn carry(&self, delivery: Delivery) -> Result<(), ApiError> {
        self.carrier.carry(delivery).await.map_err(|e| ApiError::new("InternalFailure", e))
    }

    async fn execution(&self, arn: &str) -> Result<runtime::ExecutionRecord, ApiError> {
        parse_arn(arn, "execution")?;
        Ok(self.store.execution(arn).await?)
    }

    async fn describe_execution(&self, f: Fields) -> Result<Value, ApiError> {
        let record = self.execution(f.required("executionArn")?).await?;
        let metadata_only = f.one_of("includedData", &["ALL_DATA", "METADATA_ONLY"])? == Some("METADATA_ONLY");
        let mut out = render::describe_execution(&record, Timestamps::EpochSeconds);
        if metadata_only && let Some(m) = out.as_object_mut() {
            m.remove("input");
            m.remove("output");
            m.insert("inputDetails".into(), json!({"included": false}));
            if m.contains_key("outputDetails") {
                m.insert("outputDetails".into(), json!({"included": false}));
            }
        }
        Ok(out)
    }

    async fn describe_machine_for_execution(&self, f: Fields) -> Result<Value, ApiError> {
        let record = self.execution(f.required("executionArn")?).await?;
        Ok(json!({
            "stateMachineArn": record.info.state_machine_arn,
            "name": record.info.state_machine_name,
            "definition": record.definition_text,
            "roleArn": record.info.role_arn,
            "updateDate": date(record.info.start_time_ms),
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false},
        }))
    }

    async fn list_executions(&self, f: Fields) -> Result<Value, ApiError> {
        let machine = self.machine(f.required("stateMachineArn")?).await?;
        let status = match f
            .one_of("statusFilter", &["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"])?
        {
            None => None,
            Some("RUNNING") => Some(RunStatus::Running),
            Some("SUCCEEDED") => Some(RunStatus::Succeeded),
            Some("FAILED") => Some(RunStatus::Failed),
            Some("TIMED_OUT") => Some(RunStatus::TimedOut),
            Some("ABORTED") => Some(RunStatus::Aborted),
            // Redrives start at once here: no execution is ever pending one.
            Some(_) => return Ok(json!({"executions": []})),
        };
        let limit = f.max_results(100)?;
        let page = self.store.list_executions(&machine.arn, status, limit, f.string("nextToken")?).await?;
        let executions: Vec<Value> = page
            .items
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("executionArn".into(), Value::String(e.execution_arn.clone()));
                m.insert("stateMachineArn".into(), Value::String(e.state_machine_arn.clone()));
                m.insert("name".into(), Value::String(e.name.clone()));
                m.insert("status".into(), Value::String(e.status.as_str().to_string()));
                m.insert("startDate".into(), date(e.start_ms));
                if let Some(stop) = e.stop_ms {
                    m.insert("stopDate".into(), date(stop));
                }
                if e.redrive_count > 0 {
                    m.insert("redriveCount".into(), Value::from(e.redrive_count));
                }
                Value::Object(m)
            })
            .collect();
        let mut out = json!({"executions": executions});
        if let Some(next) = page.next {
            out["nextToken"] = Value::String(next);
        }
        Ok(out)
    }

    async fn history(&self, f: Fields) -> Result<Value, ApiError> {
        let arn = f.required("executionArn")?;
        self.execution(arn).await?;
        let limit = f.max_results(100)?;
        let reverse = f.boolean("reverseOrder")?.unwrap_or(false);
        let include_data = f.boolean("includeExecutionData")?.unwrap_or(true);
        let offset = page_offset(f.string("nextToken")?)?;
        let mut events = self.store.history(arn).await?;
        if reverse {
            events.reverse();
        }
        let page: Vec<Value> = events
            .iter()
            .skip(offset)
            .take(limit)
            .map(|e| render::history_event(e, include_data, Timestamps::EpochSeconds))
            .collect();
        let mut out = json!({"events": page});
        if offset + limit < events.len() {
            out["nextToken"] = Value::String(page_token(offset + limit));
        }
        Ok(out)
    }

    /// Applies a delivery here and now (so the caller's answer reflects it),
    /// then hands it to the stepper, which finds its step made and carries
    /// out the step's effects.
    /// True when this call made the step (false: it was made before, or the run would not take it).
    async fn apply_now(&self, facts: &runtime::ExecutionFacts, delivery: Delivery) -> Result<bool, ApiError> {
        let mut entropy = OsEntropy::new();
        let mut ctx = Ctx { now_ms: self.clock.now_ms(), entropy: &mut entropy };
        let applied = driver::apply(&*self.store, facts, delivery.clone(), &mut ctx, None).await?;
        let (made_here, effects) = match &applied {
            Applied::Committed { effects, .. } => (true, !effects.is_empty()),
            // An identical delivery made the step (a racing answer to the same
            // task): its effects may still be due, but this call made nothing.
            Applied::Redo { effects, .. } => (false, !effects.is_empty()),
            Applied::Dropped => (false, false),
        };
        if effects {
            self.carry(delivery).await?;
        }
        Ok(made_here)
    }

    async fn stop_execution(&self, f: Fields) -> Result<Value, ApiError> {
        let arn = f.required("executionArn")?;
        let error = f.bounded("error", 256)?.map(str::to_string);
        let cause = f.bounded("cause", 32_768)?.map(str::to_string);
        let record = self.execution(arn).await?;
        if record.summary.status == RunStatus::Running {
            self.stop(&record, error, cause).await?;
        }
        let record = self.store.execution(arn).await?;
        let stopped = record.summary.stop_time_ms.unwrap_or_else(|| self.clock.now_ms());
        Ok(json!({"stopDate": date(stopped)}))
    }

    /// Stops a running execution, then the running executions its `.sync`
    /// and `.sync:2` tasks were waiting for, with the same error and cause:
    /// Step Functions stops the job of a stopped execution's "run a job"
    /// task, and such a child is that job. The parent goes first, so a
    /// child's close can never answer a parent that is still running (its
    /// Catch would take the child's abort as a task failure).
    async fn stop(
        &self,
        record: &runtime::ExecutionRecord,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), ApiError> {
        let arn = &record.info.execution_arn;
        let delivery = Delivery::event(arn, RunId::root(), Event::Stop { error: error.clone(), cause: cause.clone() });
        self.apply_now(&record.facts(), delivery).await?;
        for child in self.waiting_children(arn).await? {
            Box::pin(self.stop(&child, error.clone(), cause.clone())).await?;
        }
        Ok(())
    }

    /// The running executions that `.sync`/`.sync:2` tasks of `arn` started
    /// (named by their TaskSubmitted output) and that are linked to it.
    async fn waiting_children(&self, arn: &str) -> Result<Vec<runtime::ExecutionRecord>, ApiError> {
        let mut children = Vec::new();
        for recorded in self.store.history(arn).await? {
            let EventDetails::TaskSubmitted { task, output } = &recorded.event.details else {
                continue;
            };
            if task.resource_type != "states" || !task.resource.starts_with("startExecution.sync") {
                continue;
            }
            let submitted: Value = serde_json::from_str(output).unwrap_or(Value::Null);
            let Some(child_arn) = submitted.get("ExecutionArn").and_then(Value::as_str) else {
                continue;
            };
            let child = match self.store.execution(child_arn).await {
                Ok(child) => child,
                Err(StoreError::ExecutionDoesNotExist(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let linked = child.info.started_by.as_ref().is_some_and(|p| p.execution_arn == arn && p.waits());
            if linked && child.summary.status == RunStatus::Running {
                children.push(child);
            }
        }
        Ok(children)
    }

    /// The task a token names, if it is still waiting for this token.
    async fn waiting_task(&self, token: &str) -> Result<(runtime::ExecutionRecord, RunId, u64), ApiError> {
        let route = engine::token::decode(token).ok_or_else(invalid_token)?;
        let record = match self.store.execution(&route.execution_arn).await {
            Ok(r) => r,
            Err(StoreError::ExecutionDoesNotExist(_)) => {
                return Err(ApiError::new("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'"));
            }
            Err(e) => return Err(e.into()),
        };
        if record.summary.status != RunStatus::Running {
            return Err(task_timed_out());
        }
        let run = self.store.load_run(&route.execution_arn, &route.run).await?.ok_or_else(task_timed_out)?;
        match &run.cursor.phase {
            Phase::Task { task_id, token: Some(expected), .. }
                if run.status == RunStatus::Running && *task_id == route.task_id =>
            {
                if engine::token::same(expected, token) {
                    Ok((record, route.run, route.task_id))
                } else {
                    Err(invalid_token())
                }
            }
            _ => Err(task_timed_out()),
        }
    }

    async fn answer_task(&self, token: &str, event: impl FnOnce(u64) -> Event) -> Result<(), ApiError> {
        let (record, run, task_id) = self.waiting_task(token).await?;
        let delivery = Delivery::event(&record.info.execution_arn, run, event(task_id));
        if self.apply_now(&record.facts(), delivery).await? { Ok(()) } else { Err(task_timed_out()) }
    }

    /// SendTaskSuccess: the task's result is `output` (JSON text).
    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), ApiError> {
        if output.len() > MAX_PAYLOAD_BYTES {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to {MAX_PAYLOAD_BYTES}"
            )));
        }
        let value: Value = serde_json::from_str(output)
            .map_err(|e| ApiError::new("InvalidOutput", format!("Invalid Output: '{e}'")))?;
        self.answer_task(token, |task_id| Event::TaskResult { task_id, outcome: TaskOutcome::Succeeded(value) }).await
    }

    /// SendTaskFailure: the task failed with `failure`.
    pub async fn send_task_failure(&self, token: &str, failure: Failure) -> Result<(), ApiError> {
        self.answer_task(token, |task_id| Event::TaskResult { task_id, outcome: TaskOutcome::Failed(failure) }).await
    }

    /// SendTaskHeartbeat: the task is alive; its HeartbeatSeconds start again.
    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), ApiError> {
        let (record, run, task_id) = self.waiting_task(token).await?;
        let delivery = Delivery::event(&record.info.execution_arn, run, Event::TaskHeartbeat { task_id });
        // A heartbeat for a task without HeartbeatSeconds changes nothing and is still fine.
        self.apply_now(&record.facts(), delivery).await?;
        Ok(())
    }

    async fn redrive_execution(&self, f: Fields) -> Result<Value, ApiError> {
        let arn = f.required("executionArn")?;
        f.bounded("clientToken", 64)?;
        let record = self.execution(arn).await?;
        let not_redrivable = |why: &str| ApiError::new("ExecutionNotRedrivable", format!("Execution is {why}"));
        match record.summary.status {
            RunStatus::Running => return Err(not_redrivable("RUNNING and cannot be redriven")),
            RunStatus::Succeeded => return Err(not_redrivable("SUCCEEDED and cannot be redriven")),
            RunStatus::Failed | RunStatus::TimedOut | RunStatus::Aborted => {}
        }
        let delivery = Delivery::event(arn, RunId::root(), Event::Redrive);
        if !self.apply_now(&record.facts(), delivery).await? {
            return Err(not_redrivable("not redrivable: its final step could not be redriven"));
        }
        let record = self.store.execution(arn).await?;
        let redriven = record.summary.redrive_date_ms.unwrap_or_else(|| self.clock.now_ms());
        Ok(json!({"redriveDate": date(redriven)}))
    }
}
