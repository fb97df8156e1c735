//! `switchyard validate`.

use std::path::Path;
use std::process::ExitCode;

/// Prints `OK` or every validation error (`CODE: message at /pointer`).
pub fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    match asl::parse_definition_str(&text) {
        Ok(_) => {
            println!("{}: OK", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors {
                println!("{e}");
            }
            eprintln!("{}: {} error(s)", path.display(), errors.len());
            Ok(ExitCode::from(1))
        }
    }
}
