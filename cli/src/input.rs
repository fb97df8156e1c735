//! Reading definitions and inputs given on the command line.

use std::path::Path;

use anyhow::{Context, bail};
use asl::Definition;

/// Reads and validates a definition file; the error lists every problem with its pointer.
pub fn load_definition(path: &Path) -> anyhow::Result<(Definition, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match asl::parse_definition_str(&text) {
        Ok(def) => Ok((def, text)),
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            bail!("{} is not a valid state machine definition:\n{}", path.display(), lines.join("\n"))
        }
    }
}

/// `--input`: JSON text, or `@FILE` to read it from a file.
pub fn parse_input(arg: &str) -> anyhow::Result<serde_json::Value> {
    read_json_arg(arg, "--input", "InvalidExecutionInput").map(|(_, value)| value)
}

/// A JSON argument of option `flag`: JSON text, or `@FILE` to read it from a
/// file. Returns the text as given (to send it unchanged) and its value.
/// Text over Step Functions' payload limit is refused locally, naming the
/// error `too_large` Step Functions would answer.
pub fn read_json_arg(arg: &str, flag: &str, too_large: &str) -> anyhow::Result<(String, serde_json::Value)> {
    let (text, source) = match arg.strip_prefix('@') {
        Some(file) => (std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?, file.to_string()),
        None => (arg.to_string(), flag.to_string()),
    };
    if text.len() > engine::MAX_PAYLOAD_BYTES {
        bail!(
            "{source} is {} bytes; Step Functions accepts at most {} ({too_large})",
            text.len(),
            engine::MAX_PAYLOAD_BYTES
        );
    }
    let value = serde_json::from_str(&text).with_context(|| format!("{source} is not valid JSON"))?;
    Ok((text, value))
}

/// The state machine name for a definition file: its name without `.asl.json` / `.json`.
pub fn machine_name(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("state-machine");
    let stem = file.strip_suffix(".asl.json").or_else(|| file.strip_suffix(".json")).unwrap_or(file);
    stem.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_drop_the_extension() {
        assert_eq!(machine_name(Path::new("examples/order-saga.asl.json")), "order-saga");
        assert_eq!(machine_name(Path::new("flow.json")), "flow");
        assert_eq!(machine_name(Path::new("flow")), "flow");
    }

    #[test]
    fn inputs_are_json_text_or_files() {
        assert_eq!(parse_input(r#"{"a":1}"#).unwrap(), serde_json::json!({"a": 1}));
        let err = parse_input("{nope").unwrap_err();
        assert!(format!("{err:#}").starts_with("--input is not valid JSON"));
        assert!(parse_input("@/nonexistent/file.json").is_err());
        let big = format!("\"{}\"", "x".repeat(engine::MAX_PAYLOAD_BYTES));
        let err = parse_input(&big).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "--input is 262146 bytes; Step Functions accepts at most 262144 (InvalidExecutionInput)"
        );
    }

    #[test]
    fn json_arguments_keep_their_text_and_name_their_option() {
        let (text, value) = read_json_arg(" {\"ok\": true} ", "--output", "InvalidOutput").unwrap();
        assert_eq!(text, " {\"ok\": true} ");
        assert_eq!(value, serde_json::json!({"ok": true}));
        let err = read_json_arg("[1,", "--output", "InvalidOutput").unwrap_err();
        assert!(format!("{err:#}").starts_with("--output is not valid JSON"));
    }
}
