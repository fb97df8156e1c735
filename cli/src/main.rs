//! `switchyard`: run and validate Amazon States Language state machines locally,
//! serve the Step Functions API, and call it on a running server or deployed stack.

mod client;
mod input;
mod progress;
mod run;
mod serve;
mod tasks;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Switchyard: AWS Step Functions state machines on your own Lambda + DynamoDB, and on your laptop.
#[derive(Parser)]
#[command(name = "switchyard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a state machine in this process (in-memory store, in-process timers) and print the result.
    Run(run::RunArgs),
    /// Serve the Step Functions API on 127.0.0.1 with the stepper, timers and callback URLs in this process.
    Serve(serve::ServeArgs),
    /// Check a definition as CreateStateMachine does; print every error with its JSON pointer.
    Validate {
        /// The definition (an .asl.json file).
        definition: PathBuf,
    },
    /// Start an execution on a running server or deployed stack (StartExecution) and print the answer.
    Start(client::StartArgs),
    /// Print an execution's status, input and output (DescribeExecution).
    Describe(client::DescribeArgs),
    /// Print an execution's whole history (GetExecutionHistory, every page) as {"events": [...]}.
    History(client::HistoryArgs),
    /// List a state machine's executions (ListExecutions, every page) as {"executions": [...]}.
    List(client::ListArgs),
    /// Stop a running execution (StopExecution).
    Stop(client::StopArgs),
    /// Complete a task waiting for its token with an output (SendTaskSuccess).
    SendSuccess(client::SendSuccessArgs),
    /// Fail a task waiting for its token (SendTaskFailure).
    SendFailure(client::SendFailureArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Validate { definition } => validate::validate(&definition),
        Command::Start(args) => client::start(args),
        Command::Describe(args) => client::describe(args),
        Command::History(args) => client::history(args),
        Command::List(args) => client::list(args),
        Command::Stop(args) => client::stop(args),
        Command::SendSuccess(args) => client::send_success(args),
        Command::SendFailure(args) => client::send_failure(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
