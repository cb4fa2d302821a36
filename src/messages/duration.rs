//! Durations as QStash reads them in `Upstash-Delay`, `Upstash-Timeout` and
//! flow-control periods: `<value><unit>` groups such as `90s` or `1d10h30m`.

use std::time::Duration;

use crate::error::InvalidInput;

/// Which units a header accepts: `Upstash-Timeout` has no `d`.
#[derive(Clone, Copy)]
pub(crate) enum Units {
    WithDays,
    UpToHours,
}

/// Renders `duration` for the option `field`. Whole minutes are written in
/// the largest units (`1d10h30m`), anything else in seconds (`90s`), so the
/// value reads as a person would write it and round-trips exactly.
pub(crate) fn render(
    field: &'static str,
    duration: Duration,
    units: Units,
) -> Result<String, InvalidInput> {
    if duration.subsec_nanos() != 0 {
        return Err(InvalidInput::new(
            field,
            format!("QStash counts whole seconds, and {duration:?} has a fraction of one"),
        ));
    }
    let secs = duration.as_secs();
    if !secs.is_multiple_of(60) || secs == 0 {
        return Ok(format!("{secs}s"));
    }
    let mut minutes = secs / 60;
    let mut out = String::new();
    let mut group = |value: u64, unit: char| {
        if value != 0 {
            out.push_str(&value.to_string());
            out.push(unit);
        }
    };
    if let Units::WithDays = units {
        group(minutes / (24 * 60), 'd');
        minutes %= 24 * 60;
    }
    group(minutes / 60, 'h');
    group(minutes % 60, 'm');
    Ok(out)
}

/// Like [`render`], for options where zero makes no sense to QStash.
pub(crate) fn render_positive(
    field: &'static str,
    duration: Duration,
    units: Units,
) -> Result<String, InvalidInput> {
    if duration.is_zero() {
        return Err(InvalidInput::new(field, "must be longer than zero"));
    }
    render(field, duration, units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(secs: u64) -> String {
        render("delay", Duration::from_secs(secs), Units::WithDays).unwrap()
    }

    #[test]
    fn whole_minutes_use_the_largest_units_and_the_rest_seconds() {
        assert_eq!(delay(0), "0s");
        assert_eq!(delay(10), "10s");
        assert_eq!(delay(90), "90s");
        assert_eq!(delay(60), "1m");
        assert_eq!(delay(3600), "1h");
        assert_eq!(delay(86_400 + 10 * 3600 + 30 * 60), "1d10h30m");
        assert_eq!(delay(2 * 86_400 + 60), "2d1m");
        assert_eq!(delay(86_400 + 30), "86430s");
    }

    /// Reads a rendered duration back the way QStash does.
    fn parse(text: &str) -> u64 {
        let mut total = 0;
        let mut number = 0;
        for c in text.chars() {
            match c {
                '0'..='9' => number = number * 10 + u64::from(c.to_digit(10).unwrap()),
                unit => {
                    let scale = match unit {
                        's' => 1,
                        'm' => 60,
                        'h' => 3600,
                        'd' => 86_400,
                        other => panic!("unit {other} in {text}"),
                    };
                    total += number * scale;
                    number = 0;
                }
            }
        }
        assert_eq!(number, 0, "{text} ends without a unit");
        total
    }

    proptest::proptest! {
        #[test]
        fn every_whole_second_duration_reads_back_exactly(secs in 0u64..10_000_000_000) {
            let duration = Duration::from_secs(secs);
            for units in [Units::WithDays, Units::UpToHours] {
                let text = render("delay", duration, units).unwrap();
                proptest::prop_assert_eq!(parse(&text), secs, "{}", text);
                if let Units::UpToHours = units {
                    proptest::prop_assert!(!text.contains('d'));
                }
            }
        }
    }

    #[test]
    fn timeouts_have_no_days() {
        let day = render("timeout", Duration::from_secs(86_400), Units::UpToHours).unwrap();
        assert_eq!(day, "24h");
    }

    #[test]
    fn fractions_and_zero_are_refused_where_qstash_would() {
        let error = render("delay", Duration::from_millis(1500), Units::WithDays).unwrap_err();
        assert_eq!(error.field(), "delay");
        assert!(error.reason().contains("whole seconds"), "{error}");
        let error = render_positive("timeout", Duration::ZERO, Units::UpToHours).unwrap_err();
        assert_eq!(error.field(), "timeout");
    }
}
