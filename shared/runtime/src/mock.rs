//! Mocked task responses in AWS Step Functions Local's MockConfigFile format,
//! so a user's existing mock files work unchanged:
//!
//! ```json
//! {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<Task state>": "<response>"}}}},
//!  "MockedResponses": {"<response>": {"0": {"Return": …}, "1-2": {"Throw": {"Error": …, "Cause": …}}}}}
//! ```
//!
//! Invocations are counted per state per execution from 0; every attempt
//! (retries included) needs an entry. A state without a mock in the test case
//! goes to the fallback invoker.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use asl::Failure;
use engine::{ExecutionInfo, TaskOutcome, TaskRequest};
use serde_json::Value;

use crate::invoker::{NoInvoker, TaskInvoker};

/// A problem in a mock file, located by a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {pointer}")]
pub struct MockConfigError {
    /// Where in the mock file.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

fn err(pointer: impl Into<String>, message: impl Into<String>) -> MockConfigError {
    MockConfigError { pointer: pointer.into(), message: message.into() }
}

/// One mocked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum MockAnswer {
    /// `Return`: the task result.
    Return(Value),
    /// `Throw`: the task fails with this error and cause.
    Throw(Failure),
}

/// The answers of one mocked response, by invocation number range (inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct MockedResponse {
    ranges: Vec<(u32, u32, MockAnswer)>,
}

impl MockedResponse {
    /// The answer for invocation `n` (0-based), if the response covers it.
    pub fn answer(&self, n: u32) -> Option<&MockAnswer> {
        self.ranges.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&n)).map(|(_, _, a)| a)
    }
}

/// A parsed MockConfigFile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MockConfig {
    /// state machine → test case → Task state → response name.
    pub state_machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    /// response name → response.
    pub responses: HashMap<String, MockedResponse>,
}

fn object<'v>(value: &'v Value, pointer: &str) -> Result<&'v serde_json::Map<String, Value>, MockConfigError> {
    value.as_object().ok_or_else(|| err(pointer, "expected an object"))
}

fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl MockConfig {
    /// Parses the file's text.
    pub fn parse_str(text: &str) -> Result<MockConfig, MockConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| err("", format!("not valid JSON: {e}")))?;
        Self::parse(&value)
    }

    /// Parses and checks a MockConfigFile document: every test case names a
    /// response that exists, and every response entry has exactly one of
    /// `Return` / `Throw` under a key `"N"` or `"N-M"`.
    pub fn parse(value: &Value) -> Result<MockConfig, MockConfigError> {
        let root = object(value, "")?;
        for key in root.keys() {
            if key != "StateMachines" && key != "MockedResponses" {
                return Err(err(format!("/{}", token(key)), format!("unknown field '{key}'")));
            }
        }
        let mut config = MockConfig::default();
        if let Some(responses) = root.get("MockedResponses") {
            for (name, response) in object(responses, "/MockedResponses")? {
                let pointer = format!("/MockedResponses/{}", token(name));
                config.responses.insert(name.clone(), parse_response(response, &pointer)?);
            }
        }
        if let Some(machines) = root.get("StateMachines") {
            for (machine, body) in object(machines, "/StateMachines")? {
                let pointer = format!("/StateMachines/{}", token(machine));
                let body = object(body, &pointer)?;
                let mut cases = HashMap::new();
                for (key, value) in body {
                    if key != "TestCases" {
                        return Err(err(format!("{pointer}/{}", token(key)), format!("unknown field '{key}'")));
                    }
                    for (case, states) in object(value, &format!("{pointer}/TestCases"))? {
                        let case_pointer = format!("{pointer}/TestCases/{}", token(case));
                        let mut mocks = HashMap::new();
                        for (state, response) in object(states, &case_pointer)? {
                            let state_pointer = format!("{case_pointer}/{}", token(state));
                            let response = response
                                .as_str()
                                .ok_or_else(|| err(&state_pointer, "expected the name of a mocked response"))?;
                            if !config.responses.contains_key(response) {
                                return Err(err(
                                    &state_pointer,
                                    format!("no mocked response named '{response}' in MockedResponses"),
                                ));
                            }
                            mocks.insert(state.clone(), response.to_string());
                        }
                        cases.insert(case.clone(), mocks);
                    }
                }
                config.state_machines.insert(machine.clone(), cases);
            }
        }
        Ok(config)
    }

    /// The mocks of one test case: Task state → response, or a message naming what exists.
    pub fn test_case(&self, machine: &str, case: &str) -> Result<&HashMap<String, String>, String> {
        let cases = self.state_machines.get(machine).ok_or_else(|| {
            let mut names: Vec<_> = self.state_machines.keys().cloned().collect();
            names.sort();
            format!("the mock file has no state machine '{machine}' (it has: {})", names.join(", "))
        })?;
        cases.get(case).ok_or_else(|| {
            let mut names: Vec<_> = cases.keys().cloned().collect();
            names.sort();
            format!(
                "state machine '{machine}' has no test case '{case}' in the mock file (it has: {})",
                names.join(", ")
            )
        })
    }
}

fn parse_range(key: &str) -> Option<(u32, u32)> {
    match key.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (lo.parse().ok()?, hi.parse().ok()?);
            (lo <= hi).then_some((lo, hi))
        }
        None => key.parse().ok().map(|n| (n, n)),
    }
}

fn parse_response(value: &Value, pointer: &str) -> Result<MockedResponse, MockConfigError> {
    let mut ranges = Vec::new();
    for (key, entry) in object(value, pointer)? {
        let entry_pointer = format!("{pointer}/{}", token(key));
        let (lo, hi) = parse_range(key).ok_or_else(|| {
            err(&entry_pointer, format!("'{key}' is not an invocation number (\"0\") or range (\"1-2\")"))
        })?;
        let entry = object(entry, &entry_pointer)?;
        let answer = match (entry.get("Return"), entry.get("Throw"), entry.len()) {
            (Some(ret), None, 1) => MockAnswer::Return(ret.clone()),
            (None, Some(throw), 1) => {
                let throw_pointer = format!("{entry_pointer}/Throw");
                let throw = object(throw, &throw_pointer)?;
                let text = |field: &str| -> Result<String, MockConfigError> {
                    match throw.get(field) {
                        None => Ok(String::new()),
                        Some(Value::String(s)) => Ok(s.clone()),
                        Some(_) => Err(err(format!("{throw_pointer}/{field}"), "expected a string")),
                    }
                };
                MockAnswer::Throw(Failure::new(text("Error")?, text("Cause")?))
            }
            _ => {
                return Err(err(&entry_pointer, "expected exactly one of 'Return' or 'Throw'"));
            }
        };
        ranges.push((lo, hi, answer));
    }
    ranges.sort_by_key(|(lo, _, _)| *lo);
    for pair in ranges.windows(2) {
        if pair[0].1 >= pair[1].0 {
            return Err(err(pointer, format!("invocation {} is mocked twice", pair[1].0)));
        }
    }
    Ok(MockedResponse { ranges })
}

/// Answers Task states from a test case of a mock file; other states go to `fallback`.
pub struct MockInvoker<F = NoInvoker> {
    mocks: HashMap<String, MockedResponse>,
    /// Mocks by state machine name then Task state, for an invoker serving many machines.
    by_machine: HashMap<String, HashMap<String, MockedResponse>>,
    counts: Mutex<HashMap<(String, String), u32>>,
    fallback: F,
}

impl MockInvoker<NoInvoker> {
    /// The mocks of `case` for state machine `machine`; unmocked states fail.
    pub fn new(config: &MockConfig, machine: &str, case: &str) -> Result<Self, String> {
        Self::with_fallback(config, machine, case, NoInvoker)
    }
}

impl MockInvoker<NoInvoker> {
    /// No mocks: every Task goes to [`NoInvoker`].
    pub fn none() -> Self {
        MockInvoker {
            mocks: HashMap::new(),
            by_machine: HashMap::new(),
            counts: Mutex::new(HashMap::new()),
            fallback: NoInvoker,
        }
    }
}

impl<F: TaskInvoker> MockInvoker<F> {
    /// No mocks: every Task goes to `fallback`.
    pub fn passthrough(fallback: F) -> Self {
        MockInvoker { mocks: HashMap::new(), by_machine: HashMap::new(), counts: Mutex::new(HashMap::new()), fallback }
    }

    /// The mocks of `case` for `machine`, with `fallback` for unmocked states.
    pub fn with_fallback(config: &MockConfig, machine: &str, case: &str, fallback: F) -> Result<Self, String> {
        let case_mocks = config.test_case(machine, case)?;
        let mocks = case_mocks
            .iter()
            .filter_map(|(state, response)| config.responses.get(response).map(|r| (state.clone(), r.clone())))
            .collect();
        Ok(MockInvoker { mocks, by_machine: HashMap::new(), counts: Mutex::new(HashMap::new()), fallback })
    }

    /// The mocks of test case `case` for every state machine of the file
    /// that has it (a server running many machines: `switchyard serve`),
    /// chosen by the execution's state machine name; machines without the
    /// case and unmocked states go to `fallback`. Fails when no machine has the case.
    pub fn for_case(config: &MockConfig, case: &str, fallback: F) -> Result<Self, String> {
        let mut by_machine = HashMap::new();
        for (machine, cases) in &config.state_machines {
            if let Some(states) = cases.get(case) {
                let mocks = states
                    .iter()
                    .filter_map(|(state, response)| config.responses.get(response).map(|r| (state.clone(), r.clone())))
                    .collect();
                by_machine.insert(machine.clone(), mocks);
            }
        }
        if by_machine.is_empty() {
            return Err(format!("no state machine of the mock file has a test case '{case}'"));
        }
        Ok(MockInvoker { mocks: HashMap::new(), by_machine, counts: Mutex::new(HashMap::new()), fallback })
    }

    /// True when `state` has a mock in this test case.
    pub fn mocks(&self, state: &str) -> bool {
        self.mocks.contains_key(state)
    }

    fn next_count(&self, execution: &str, state: &str) -> u32 {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry((execution.to_string(), state.to_string())).or_insert(0);
        let n = *count;
        *count += 1;
        n
    }
}

impl<F: TaskInvoker> TaskInvoker for MockInvoker<F> {
    fn invoke(&self, execution: &ExecutionInfo, request: &TaskRequest) -> impl Future<Output = TaskOutcome> + Send {
        let response = match self.by_machine.get(&execution.state_machine_name) {
            Some(states) => states.get(&request.state_name),
            None => self.mocks.get(&request.state_name),
        };
        let mocked = response.map(|response| {
            let n = self.next_count(&execution.execution_arn, &request.state_name);
            match response.answer(n) {
                Some(MockAnswer::Return(v)) => TaskOutcome::Succeeded(v.clone()),
                Some(MockAnswer::Throw(f)) => TaskOutcome::Failed(f.clone()),
                None => TaskOutcome::Failed(Failure::runtime(format!(
                    "The mock for the Task state '{}' has no response for invocation {n} (invocations count from 0, retries included).",
                    request.state_name
                ))),
            }
        });
        let fallback = match mocked {
            Some(_) => None,
            None => Some(self.fallback.invoke(execution, request)),
        };
        async move {
            match (mocked, fallback) {
                (Some(outcome), _) => outcome,
                (None, Some(f)) => f.await,
                (None, None) => TaskOutcome::Failed(Failure::runtime("no invoker")),
            }
        }
    }
}
