//! Timestamps as ASL accepts them: RFC 3339 with an upper-case `T`, and a
//! `Z` or numeric offset. (Parsers such as `time`'s also accept a lower-case
//! `t`/`z` or a space; ASL does not, so the shape is checked first.)

/// Parses an ASL timestamp into milliseconds since the Unix epoch (fractional
/// seconds beyond milliseconds are truncated). `None` when it is not one.
pub fn parse_epoch_millis(text: &str) -> Option<i64> {
    let _ = text;
    unimplemented!()
}

/// Parses an ASL timestamp into nanoseconds since the Unix epoch, for exact comparisons.
pub fn parse_epoch_nanos(text: &str) -> Option<i128> {
    let _ = text;
    unimplemented!()
}

/// Formats milliseconds since the Unix epoch as Step Functions prints times
/// in the context object: `2026-11-21T23:39:11.123Z`.
pub fn format_epoch_millis(millis: i64) -> String {
    let _ = millis;
    unimplemented!()
}
