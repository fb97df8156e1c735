//! Progress of a local run: a live line on a terminal, one line per event when piped.

use std::io::{IsTerminal, Write};

use engine::HistoryEvent;
use indicatif::{ProgressBar, ProgressStyle};
use runtime::{ExecutionFacts, Observer};

/// Shows each history event as it is committed, on standard error.
pub struct Progress {
    bar: Option<ProgressBar>,
    events: u64,
}

impl Progress {
    /// A live spinner when standard error is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {pos} events  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        });
        Progress { bar, events: 0 }
    }
}

impl Drop for Progress {
    /// Clears the live line, so the result prints on a clean terminal.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One line for an event: `[id] Type  State`.
pub fn line(id: u64, event: &HistoryEvent) -> String {
    let kind = event.details.type_name();
    match event.details.state_name() {
        Some(name) => format!("[{id:>5}] {kind:<24} {name}"),
        None => format!("[{id:>5}] {kind}"),
    }
}

impl Observer for Progress {
    fn on_commit(&mut self, _record: &ExecutionFacts, events: &[HistoryEvent], ids: &[(u64, u64)]) {
        for (event, (id, _)) in events.iter().zip(ids) {
            self.events += 1;
            match &self.bar {
                Some(bar) => {
                    bar.set_position(self.events);
                    bar.set_message(line(*id, event));
                }
                None => {
                    let mut err = std::io::stderr().lock();
                    // Progress is best effort: a closed stderr must not stop the run.
                    let _ = writeln!(err, "{}", line(*id, event));
                }
            }
        }
    }
}
