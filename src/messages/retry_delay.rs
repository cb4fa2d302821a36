//! Checking an `Upstash-Retry-Delay` expression before QStash sees it.
//!
//! QStash evaluates the expression after each failed attempt, so a typo
//! would only show once a delivery fails. The check is syntactic: numbers,
//! `retried`, the documented functions, `+ - * /` and parentheses.

use crate::error::InvalidInput;

/// The functions the spec documents for retry-delay expressions.
const FUNCTIONS: &[&str] = &[
    "pow", "exp", "sqrt", "abs", "floor", "ceil", "round", "min", "max",
];

/// The one variable: how many times the message has been retried.
const VARIABLE: &str = "retried";

pub(crate) fn check(field: &'static str, expression: &str) -> Result<(), InvalidInput> {
    let fail = |reason: String| Err(InvalidInput::new(field, reason));
    if expression.trim().is_empty() {
        return fail("the expression is empty".into());
    }
    let bytes = expression.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expression[start..i];
            let next = expression[i..].trim_start().chars().next();
            if FUNCTIONS.contains(&word) {
                if next != Some('(') {
                    return fail(format!("function `{word}` must be followed by `(`"));
                }
            } else if word != VARIABLE {
                return fail(format!(
                    "unknown name `{word}`: use `{VARIABLE}` and the functions {}",
                    FUNCTIONS.join(", ")
                ));
            }
            continue;
        }
        match c {
            b'0'..=b'9' | b'.' | b'+' | b'-' | b'*' | b'/' | b',' | b' ' | b'\t' => {}
            b'(' => depth += 1,
            b')' => {
                if depth == 0 {
                    return fail(format!("unbalanced `)` at byte {i}"));
                }
                depth -= 1;
            }
            _ => {
                let shown = expression[i..].chars().next().unwrap_or('?');
                return fail(format!("unexpected character `{shown}` at byte {i}"));
            }
        }
        i += 1;
    }
    if depth != 0 {
        return fail("a `(` is never closed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_documented_examples_pass() {
        for example in [
            "1000",
            "1000 * (1 + retried)",
            "pow(2, retried) * 1000",
            "max(1000, pow(2, retried) * 100)",
            "floor(sqrt(retried)) * 500.5",
        ] {
            assert_eq!(check("retry_delay", example), Ok(()), "{example}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (expression, expected) in [
            ("", "empty"),
            ("1000 * retry", "unknown name `retry`"),
            ("pow 2", "must be followed by `(`"),
            ("(1000", "never closed"),
            ("1000)", "unbalanced"),
            ("1000; drop", "unexpected character `;`"),
            ("2 ^ retried", "unexpected character `^`"),
            ("1000 × 2", "unexpected character `×`"),
        ] {
            let error = check("retry_delay", expression).unwrap_err();
            assert_eq!(error.field(), "retry_delay");
            assert!(error.reason().contains(expected), "{expression}: {error}");
        }
    }
}
