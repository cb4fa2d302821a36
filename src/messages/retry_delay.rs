//! `Upstash-Retry-Delay` expressions: checked before QStash sees them, and
//! evaluated the way QStash does (for local servers and tests).
//!
//! QStash evaluates the expression after each failed attempt, so a typo
//! would only show once a delivery fails. The grammar is the documented
//! one: numbers, `retried`, `+ - * /`, parentheses and the functions
//! `pow exp sqrt abs floor ceil round min max`.

use crate::error::InvalidInput;

/// The documented functions and how many arguments each takes.
const FUNCTIONS: &[(&str, usize)] = &[
    ("pow", 2),
    ("exp", 1),
    ("sqrt", 1),
    ("abs", 1),
    ("floor", 1),
    ("ceil", 1),
    ("round", 1),
    ("min", 2),
    ("max", 2),
];

/// The one variable: how many times the message has been retried (0 for
/// the first retry).
const VARIABLE: &str = "retried";

/// Deeper nesting is refused: the parser recurses, and the dev server
/// parses what any client sends, so a header of `((((...` must not
/// overflow its stack.
const MAX_DEPTH: usize = 64;

/// Checks `expression`, reporting a mistake as the option `field`.
pub(crate) fn check(field: &'static str, expression: &str) -> Result<(), InvalidInput> {
    evaluate(expression, 0)
        .map(|_| ())
        .map_err(|reason| InvalidInput::new(field, reason))
}

/// The delay in milliseconds that `expression` gives for the retry number
/// `retried`, or why it is not a valid expression.
pub(crate) fn evaluate(expression: &str, retried: u32) -> Result<f64, String> {
    let mut parser = Parser {
        text: expression,
        at: 0,
        retried: f64::from(retried),
        depth: 0,
    };
    if expression.trim().is_empty() {
        return Err("the expression is empty".into());
    }
    let value = parser.sum()?;
    parser.skip_space();
    match parser.peek() {
        None => Ok(value),
        Some(c) => Err(format!("unexpected `{c}` at byte {}", parser.at)),
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    retried: f64,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += self.peek().map_or(0, char::len_utf8);
        }
    }

    /// Consumes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut value = self.product()?;
        loop {
            if self.eat('+') {
                value += self.product()?;
            } else if self.eat('-') {
                value -= self.product()?;
            } else {
                return Ok(value);
            }
        }
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut value = self.unary()?;
        loop {
            if self.eat('*') {
                value *= self.unary()?;
            } else if self.eat('/') {
                value /= self.unary()?;
            } else {
                return Ok(value);
            }
        }
    }

    fn unary(&mut self) -> Result<f64, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        let value = if self.eat('-') {
            self.unary().map(|v| -v)
        } else {
            self.atom()
        };
        self.depth -= 1;
        value
    }

    fn atom(&mut self) -> Result<f64, String> {
        self.skip_space();
        let start = self.at;
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let value = self.sum()?;
                if !self.eat(')') {
                    return Err(format!("the `(` at byte {start} is never closed"));
                }
                Ok(value)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.at += 1;
                }
                let number = &self.text[start..self.at];
                number
                    .parse()
                    .map_err(|_| format!("`{number}` is not a number"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.at += 1;
                }
                let word = &self.text[start..self.at];
                if word == VARIABLE {
                    return Ok(self.retried);
                }
                let Some(&(name, arity)) = FUNCTIONS.iter().find(|(name, _)| *name == word) else {
                    let names: Vec<&str> = FUNCTIONS.iter().map(|(name, _)| *name).collect();
                    return Err(format!(
                        "unknown name `{word}`: use `{VARIABLE}` and the functions {}",
                        names.join(", ")
                    ));
                };
                if !self.eat('(') {
                    return Err(format!("function `{name}` must be followed by `(`"));
                }
                let mut args = vec![self.sum()?];
                while self.eat(',') {
                    args.push(self.sum()?);
                }
                if !self.eat(')') {
                    return Err(format!("the `(` of `{name}` is never closed"));
                }
                if args.len() != arity {
                    return Err(format!(
                        "`{name}` takes {arity} argument(s), not {}",
                        args.len()
                    ));
                }
                Ok(apply(name, &args))
            }
            Some(c) => Err(format!("unexpected `{c}` at byte {start}")),
            None => Err("the expression ends too early".into()),
        }
    }
}

fn apply(name: &str, args: &[f64]) -> f64 {
    match (name, args) {
        ("pow", [x, y]) => x.powf(*y),
        ("min", [x, y]) => x.min(*y),
        ("max", [x, y]) => x.max(*y),
        ("exp", [x]) => x.exp(),
        ("sqrt", [x]) => x.sqrt(),
        ("abs", [x]) => x.abs(),
        ("floor", [x]) => x.floor(),
        ("ceil", [x]) => x.ceil(),
        // Only `round` is left; the parser checked names and arity.
        (_, [x, ..]) => x.round(),
        (_, []) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::{check, evaluate};

    #[test]
    fn the_documented_examples_evaluate() {
        for (expression, retried, expected) in [
            ("1000", 4, 1000.0),
            ("1000 * (1 + retried)", 2, 3000.0),
            ("pow(2, retried) * 1000", 3, 8000.0),
            ("max(1000, pow(2, retried) * 100)", 0, 1000.0),
            ("max(1000, pow(2, retried) * 100)", 5, 3200.0),
            ("floor(sqrt(retried)) * 500.5", 4, 1001.0),
            (
                "-2 * -3 + abs(-1) - round(0.4) + ceil(0.2) + min(1, exp(0))",
                0,
                9.0,
            ),
        ] {
            assert_eq!(evaluate(expression, retried), Ok(expected), "{expression}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (expression, expected) in [
            ("", "empty"),
            ("1000 * retry", "unknown name `retry`"),
            ("pow 2", "must be followed by `(`"),
            ("(1000", "never closed"),
            ("1000)", "unexpected `)`"),
            ("1000; 2", "unexpected `;`"),
            ("2 ^ retried", "unexpected `^`"),
            ("2 ** retried", "unexpected `*`"),
            ("1000 × 2", "unexpected `×`"),
            ("pow(2)", "takes 2 argument(s), not 1"),
            ("sqrt(1, 2)", "takes 1 argument(s), not 2"),
            ("1.2.3", "not a number"),
            ("1000 *", "ends too early"),
            ("(".repeat(100_000).as_str(), "nested more than 64 deep"),
            ("-".repeat(100_000).as_str(), "nested more than 64 deep"),
        ] {
            let error = check("retry_delay", expression).unwrap_err();
            assert_eq!(error.field(), "retry_delay");
            assert!(error.reason().contains(expected), "{expression}: {error}");
        }
    }
}
