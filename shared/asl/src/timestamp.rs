//! Timestamps as ASL accepts them: RFC 3339 with an upper-case `T`, and a
//! `Z` or numeric offset. (Parsers such as `time`'s also accept a lower-case
//! `t`/`z` or a space; ASL does not, so the shape is checked first.)

use time::{Date, Month, OffsetDateTime, PlainDateTime, Time, UtcOffset};

/// Nanoseconds per millisecond.
const NANOS_PER_MILLI: i128 = 1_000_000;

/// The most fraction digits accepted (nanosecond precision, as Java's
/// `ISO_OFFSET_DATE_TIME`, which Step Functions uses).
const MAX_FRACTION_DIGITS: usize = 9;

/// The largest offset accepted, in minutes (Java's `ZoneOffset` limit, ±18:00).
const MAX_OFFSET_MINUTES: u32 = 18 * 60;

/// The earliest instant `format_epoch_millis` can print: `-9999-01-01T00:00:00.000Z`.
const MIN_FORMAT_MILLIS: i64 = -377_705_116_800_000;

/// The latest instant `format_epoch_millis` can print: `9999-12-31T23:59:59.999Z`.
const MAX_FORMAT_MILLIS: i64 = 253_402_300_799_999;

/// Parses an ASL timestamp into milliseconds since the Unix epoch (fractional
/// seconds beyond milliseconds are truncated). `None` when it is not one.
pub fn parse_epoch_millis(text: &str) -> Option<i64> {
    let nanos = parse_epoch_nanos(text)?;
    i64::try_from(nanos.div_euclid(NANOS_PER_MILLI)).ok()
}

/// Parses an ASL timestamp into nanoseconds since the Unix epoch, for exact comparisons.
///
/// The accepted shape is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with an
/// upper-case `T` and `Z`, one to nine fraction digits and an offset of at
/// most ±18:00. Out-of-range fields (month 13, hour 25, February 30) are
/// rejected, as is a leap second (`:60`).
pub fn parse_epoch_nanos(text: &str) -> Option<i128> {
    let fields = Fields::parse(text.as_bytes())?;
    let month = Month::try_from(fields.month).ok()?;
    let date = Date::from_calendar_date(fields.year, month, fields.day).ok()?;
    let time = Time::from_hms_nano(fields.hour, fields.minute, fields.second, fields.nanosecond).ok()?;
    let offset = UtcOffset::from_whole_seconds(fields.offset_seconds).ok()?;
    Some(PlainDateTime::new(date, time).assume_offset(offset).unix_timestamp_nanos())
}

/// Formats milliseconds since the Unix epoch as Step Functions prints times
/// in the context object: `2026-11-21T23:39:11.123Z`.
///
/// Instants outside the years -9999 to 9999 are clamped to that range.
pub fn format_epoch_millis(millis: i64) -> String {
    let millis = millis.clamp(MIN_FORMAT_MILLIS, MAX_FORMAT_MILLIS);
    let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * NANOS_PER_MILLI)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let year = instant.year();
    let sign = if year < 0 { "-" } else { "" };
    format!(
        "{sign}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        year.unsigned_abs(),
        u8::from(instant.month()),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second(),
        instant.millisecond(),
    )
}

/// The numeric fields of a timestamp whose shape has been checked; ranges
/// are checked later, by the `time` constructors.
struct Fields {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
    offset_seconds: i32,
}

impl Fields {
    /// Checks the shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` and reads the fields.
    fn parse(bytes: &[u8]) -> Option<Fields> {
        let mut cursor = Cursor { bytes, at: 0 };
        let year = cursor.digits(4)?;
        cursor.expect(b'-')?;
        let month = cursor.digits(2)?;
        cursor.expect(b'-')?;
        let day = cursor.digits(2)?;
        cursor.expect(b'T')?;
        let hour = cursor.digits(2)?;
        cursor.expect(b':')?;
        let minute = cursor.digits(2)?;
        cursor.expect(b':')?;
        let second = cursor.digits(2)?;
        let mut nanosecond = 0u32;
        if cursor.peek() == Some(b'.') {
            cursor.at += 1;
            let start = cursor.at;
            while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
                cursor.at += 1;
            }
            let count = cursor.at - start;
            if count == 0 || count > MAX_FRACTION_DIGITS {
                return None;
            }
            for &digit in &bytes[start..cursor.at] {
                nanosecond = nanosecond * 10 + u32::from(digit - b'0');
            }
            for _ in count..MAX_FRACTION_DIGITS {
                nanosecond *= 10;
            }
        }
        let offset_seconds = match cursor.next()? {
            b'Z' => 0,
            sign @ (b'+' | b'-') => {
                let hours = cursor.digits(2)?;
                cursor.expect(b':')?;
                let minutes = cursor.digits(2)?;
                if minutes >= 60 || hours * 60 + minutes > MAX_OFFSET_MINUTES {
                    return None;
                }
                let seconds = i32::try_from((hours * 60 + minutes) * 60).ok()?;
                if sign == b'-' { -seconds } else { seconds }
            }
            _ => return None,
        };
        if cursor.at != bytes.len() {
            return None;
        }
        Some(Fields {
            year: i32::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
            hour: u8::try_from(hour).ok()?,
            minute: u8::try_from(minute).ok()?,
            second: u8::try_from(second).ok()?,
            nanosecond,
            offset_seconds,
        })
    }
}

/// A read position in the bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// The next byte, without consuming it.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Consumes and returns the next byte.
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// Consumes `byte`, or fails.
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// Consumes exactly `count` ASCII digits and returns their value.
    fn digits(&mut self, count: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..count {
            let byte = self.next()?;
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(byte - b'0');
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2016-12-05T21:29:29Z in seconds since the epoch.
    const BASE_SECONDS: i128 = 1_480_973_369;

    fn nanos(text: &str) -> Option<i128> {
        parse_epoch_nanos(text)
    }

    #[test]
    fn accepts_utc() {
        assert_eq!(nanos("2016-12-05T21:29:29Z"), Some(BASE_SECONDS * 1_000_000_000));
        assert_eq!(nanos("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn accepts_fractions() {
        let base = BASE_SECONDS * 1_000_000_000;
        assert_eq!(nanos("2016-12-05T21:29:29.5Z"), Some(base + 500_000_000));
        assert_eq!(nanos("2016-12-05T21:29:29.123Z"), Some(base + 123_000_000));
        assert_eq!(nanos("2016-12-05T21:29:29.123456789Z"), Some(base + 123_456_789));
        assert_eq!(nanos("2016-12-05T21:29:29.000001Z"), Some(base + 1_000));
    }

    #[test]
    fn accepts_offsets() {
        let base = BASE_SECONDS * 1_000_000_000;
        let hour = 3_600 * 1_000_000_000;
        assert_eq!(nanos("2016-12-05T22:29:29+01:00"), Some(base));
        assert_eq!(nanos("2016-12-05T20:29:29-01:00"), Some(base));
        assert_eq!(nanos("2016-12-05T21:29:29+00:00"), Some(base));
        assert_eq!(nanos("2016-12-05T21:29:29-00:00"), Some(base));
        assert_eq!(nanos("2016-12-06T03:29:29.25+05:30"), Some(base + hour / 2 + 250_000_000));
        assert_eq!(nanos("2016-12-05T21:29:29+18:00"), Some(base - 18 * hour));
        assert_eq!(nanos("2016-12-05T21:29:29-18:00"), Some(base + 18 * hour));
    }

    #[test]
    fn accepts_leap_day_and_edges() {
        assert!(nanos("2024-02-29T00:00:00Z").is_some());
        assert!(nanos("2000-02-29T23:59:59.999999999Z").is_some());
        assert!(nanos("0001-01-01T00:00:00Z").is_some());
        assert!(nanos("9999-12-31T23:59:59Z").is_some());
        assert_eq!(nanos("1969-12-31T23:59:59.999Z"), Some(-1_000_000));
    }

    #[test]
    fn rejects_missing_zone() {
        assert_eq!(nanos("2016-12-05T21:29:29"), None);
        assert_eq!(nanos("2016-12-05T21:29:29.123"), None);
        assert_eq!(nanos("2012-10-09T19:00:55"), None);
    }

    #[test]
    fn rejects_wrong_separators_and_case() {
        assert_eq!(nanos("2016-12-05 21:29:29Z"), None);
        assert_eq!(nanos("2016-12-05t21:29:29Z"), None);
        assert_eq!(nanos("2016-12-05T21:29:29z"), None);
        assert_eq!(nanos("2016/12/05T21:29:29Z"), None);
        assert_eq!(nanos("2016-12-05T21-29-29Z"), None);
        assert_eq!(nanos("20161205T212929Z"), None);
    }

    #[test]
    fn rejects_out_of_range_fields() {
        assert_eq!(nanos("2016-13-05T21:29:29Z"), None);
        assert_eq!(nanos("2016-00-05T21:29:29Z"), None);
        assert_eq!(nanos("2016-12-00T21:29:29Z"), None);
        assert_eq!(nanos("2016-12-32T21:29:29Z"), None);
        assert_eq!(nanos("2016-02-30T21:29:29Z"), None);
        assert_eq!(nanos("2023-02-29T21:29:29Z"), None);
        assert_eq!(nanos("2016-12-05T25:29:29Z"), None);
        assert_eq!(nanos("2016-12-05T24:00:00Z"), None);
        assert_eq!(nanos("2016-12-05T21:60:29Z"), None);
        assert_eq!(nanos("2016-12-05T21:29:60Z"), None);
        assert_eq!(nanos("2016-12-05T21:29:29+19:00"), None);
        assert_eq!(nanos("2016-12-05T21:29:29+18:01"), None);
        assert_eq!(nanos("2016-12-05T21:29:29+01:60"), None);
    }

    #[test]
    fn rejects_malformed_shapes() {
        for text in [
            "",
            "2016",
            "2016-12-05",
            "2016-12-05T21:29Z",
            "2016-12-05T21:29:29.Z",
            "2016-12-05T21:29:29.1234567891Z",
            "2016-12-05T21:29:29+0100",
            "2016-12-05T21:29:29+01",
            "2016-12-05T21:29:29Z ",
            " 2016-12-05T21:29:29Z",
            "2016-12-05T21:29:29ZZ",
            "+2016-12-05T21:29:29Z",
            "16-12-05T21:29:29Z",
            "2016-1-05T21:29:29Z",
            "2016-12-05T21:29:29+01:00:00",
            "2016-12-05T21:29:29.5+",
            "２016-12-05T21:29:29Z",
        ] {
            assert_eq!(nanos(text), None, "{text:?}");
        }
    }

    #[test]
    fn millis_floor() {
        assert_eq!(parse_epoch_millis("2016-12-05T21:29:29.123999Z"), Some(1_480_973_369_123));
        assert_eq!(parse_epoch_millis("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(parse_epoch_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_epoch_millis("nope"), None);
    }

    #[test]
    fn formats_millis() {
        assert_eq!(format_epoch_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_epoch_millis(1_480_973_369_123), "2016-12-05T21:29:29.123Z");
        assert_eq!(format_epoch_millis(1_480_973_369_000), "2016-12-05T21:29:29.000Z");
        assert_eq!(format_epoch_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_epoch_millis(1_795_304_351_123), "2026-11-21T23:39:11.123Z");
        assert_eq!(format_epoch_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_epoch_millis(i64::MIN), "-9999-01-01T00:00:00.000Z");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for millis in [0, 1, -1, 999, 1_480_973_369_123, 253_402_300_799_999, -62_135_596_800_000] {
            assert_eq!(parse_epoch_millis(&format_epoch_millis(millis)), Some(millis));
        }
    }
}
