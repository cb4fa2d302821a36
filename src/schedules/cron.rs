//! Checking a cron expression before QStash sees it: five fields, with an
//! optional `CRON_TZ=<zone>` prefix.

use crate::error::InvalidInput;

/// One of the five fields.
struct Field {
    name: &'static str,
    low: u32,
    high: u32,
    /// Names for the values from `low` on.
    names: &'static [&'static str],
    /// `?` ("no specific value") is allowed in the two day fields.
    any_day: bool,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
        any_day: false,
    },
    Field {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
        any_day: false,
    },
    Field {
        name: "day of month",
        low: 1,
        high: 31,
        names: &[],
        any_day: true,
    },
    Field {
        name: "month",
        low: 1,
        high: 12,
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
        any_day: false,
    },
    // 7 is Sunday too, as in most cron dialects.
    Field {
        name: "day of week",
        low: 0,
        high: 7,
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        any_day: true,
    },
];

pub(crate) fn check(expression: &str) -> Result<(), InvalidInput> {
    let fail = |reason: String| Err(InvalidInput::new("cron", reason));
    let mut rest = expression.trim();
    if let Some(after) = rest.strip_prefix("CRON_TZ=") {
        let (zone, fields) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        let zone_ok = !zone.is_empty()
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if !zone_ok {
            return fail(format!(
                "`CRON_TZ={zone}` is not a time zone name like America/New_York"
            ));
        }
        rest = fields;
    }
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.len() != 5 {
        return fail(format!(
            "`{expression}` has {} fields; QStash wants five (minute hour day-of-month month \
             day-of-week), optionally after `CRON_TZ=<zone> `",
            fields.len()
        ));
    }
    for (text, field) in fields.iter().zip(&FIELDS) {
        check_field(text, field).map_err(|reason| {
            InvalidInput::new("cron", format!("{} field `{text}`: {reason}", field.name))
        })?;
    }
    Ok(())
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    let Field {
        low, high, names, ..
    } = *field;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(step) if step > 0 => {}
                _ => return Err(format!("step `{step}` is not a positive number")),
            }
        }
        if range == "*" || (range == "?" && field.any_day) {
            continue;
        }
        let value = |v: &str| -> Result<u32, String> {
            let number = match v.parse::<u32>() {
                Ok(n) => n,
                Err(_) => names
                    .iter()
                    .position(|name| name.eq_ignore_ascii_case(v))
                    .map(|i| low + i as u32)
                    .ok_or_else(|| format!("`{v}` is not a number"))?,
            };
            if number < low || number > high {
                return Err(format!("{number} is outside {low}-{high}"));
            }
            Ok(number)
        };
        match range.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (value(from)?, value(to)?);
                if from > to {
                    return Err(format!("range {from}-{to} runs backwards"));
                }
            }
            None if range.is_empty() => return Err("an empty list item".into()),
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
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
            "CRON_TZ=America/New_York */5 * * * *",
            "CRON_TZ=UTC 0 0 * * *",
            "  0 0 * * *  ",
        ] {
            assert_eq!(check(expression), Ok(()), "{expression}");
        }
    }

    #[test]
    fn mistakes_name_the_field() {
        for (expression, expected) in [
            ("* * * *", "has 4 fields"),
            ("* * * * * *", "has 6 fields"),
            ("", "has 0 fields"),
            ("@daily", "has 1 fields"),
            ("60 * * * *", "minute field `60`: 60 is outside 0-59"),
            ("* 24 * * *", "hour field"),
            ("* * 0 * *", "day of month field `0`"),
            ("* * * 13 *", "month field"),
            ("* * * * 8", "day of week field"),
            ("*/0 * * * *", "step `0`"),
            ("5-1 * * * *", "runs backwards"),
            ("1,,2 * * * *", "empty list item"),
            ("x * * * *", "`x` is not a number"),
            ("? * * * *", "minute field"),
            ("CRON_TZ= */5 * * * *", "time zone"),
            ("CRON_TZ=New York */5 * * * *", "has 6 fields"),
        ] {
            let error = check(expression).unwrap_err();
            assert_eq!(error.field(), "cron");
            assert!(error.reason().contains(expected), "{expression}: {error}");
        }
    }
}
