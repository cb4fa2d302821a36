//! Cron expressions as QStash reads them: five fields (minute hour
//! day-of-month month day-of-week), optionally after `CRON_TZ=<zone> `.
//!
//! One parser serves the client's check before sending and the dev server's
//! schedules: croner, with seconds disallowed. So the client never refuses
//! an expression the dev server would run.

use croner::Cron;
use croner::parser::{CronParser, Seconds};

use crate::error::InvalidInput;

/// An expression split into its time zone (if it has `CRON_TZ=`) and its
/// five fields, parsed. Without the dev server only whether it parses is
/// used.
#[cfg_attr(not(feature = "dev-server"), allow(dead_code))]
pub(crate) struct Parsed<'a> {
    pub(crate) zone: Option<&'a str>,
    pub(crate) cron: Cron,
}

/// Parses `expression`; the error says what is wrong, without the
/// expression itself.
pub(crate) fn parse(expression: &str) -> Result<Parsed<'_>, String> {
    let mut fields = expression.trim();
    let mut zone = None;
    if let Some(rest) = fields.strip_prefix("CRON_TZ=") {
        let (name, rest) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| "nothing after the time zone".to_owned())?;
        if name.is_empty() {
            return Err("`CRON_TZ=` names no time zone, like America/New_York".to_owned());
        }
        zone = Some(name);
        fields = rest.trim();
    }
    let count = fields.split_whitespace().count();
    if count != 5 {
        return Err(format!(
            "has {count} fields; expected five fields: minute hour day-of-month month day-of-week, \
             optionally after `CRON_TZ=<zone> `"
        ));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(fields)
        .map_err(|e| e.to_string())?;
    Ok(Parsed { zone, cron })
}

/// The client's check before a schedule is created.
pub(crate) fn check(expression: &str) -> Result<(), InvalidInput> {
    parse(expression)
        .map(|_| ())
        .map_err(|why| InvalidInput::new("cron", format!("`{expression}` {why}")))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn valid_expressions_pass() {
        for expression in [
            "*/5 * * * *",
            "0 9 * * MON-FRI",
            "0 0 1,15 * *",
            "30 2 * JAN,JUL 0",
            "0 12 ? * 7",
            "0 0 L * *",
            "0 0 * * 5#2",
            "CRON_TZ=America/New_York */5 * * * *",
            "CRON_TZ=UTC 0 0 * * *",
            "  0 0 * * *  ",
        ] {
            assert_eq!(check(expression), Ok(()), "{expression}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (expression, expected) in [
            ("* * * *", "has 4 fields"),
            ("* * * * * *", "has 6 fields"),
            ("", "has 0 fields"),
            ("@daily", "has 1 fields"),
            ("60 * * * *", "60"),
            ("* 24 * * *", "24"),
            ("* * 0 * *", "0"),
            ("* * * 13 *", "13"),
            ("5-1 * * * *", "5-1"),
            ("x * * * *", "x"),
            ("CRON_TZ= */5 * * * *", "time zone"),
            ("CRON_TZ=UTC", "nothing after the time zone"),
            ("CRON_TZ=New York */5 * * * *", "has 6 fields"),
        ] {
            let error = check(expression).unwrap_err();
            assert_eq!(error.field(), "cron");
            assert!(error.reason().contains(expected), "{expression}: {error}");
        }
    }
}
