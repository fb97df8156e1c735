//! `switchyard`: run and validate Amazon States Language state machines locally.

mod input;
mod progress;
mod run;
mod serve;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Validate { definition } => validate::validate(&definition),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
