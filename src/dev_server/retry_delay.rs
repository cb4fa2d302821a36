//! `Upstash-Retry-Delay` expressions (milliseconds, in terms of `retried`)
//! and QStash's default backoff.

use std::time::Duration;

/// The longest QStash waits between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(86_400);

/// QStash's documented default: `min(1 day, e^(2.5 * n))` seconds before
/// retry `n` (12 s, 2 min 28 s, 30 min 8 s, ...), where `retried` counts the
/// retries already made.
pub(crate) fn default_backoff(retried: u32) -> Duration {
    let n = f64::from(retried) + 1.0;
    Duration::try_from_secs_f64((2.5 * n).exp().floor())
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

/// A parsed retry-delay expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryDelay {
    source: String,
    root: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    Retried,
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(Function, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    Pow,
    Exp,
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Round,
    Min,
    Max,
}

impl Function {
    fn from_name(name: &str) -> Option<(Function, usize)> {
        Some(match name {
            "pow" => (Function::Pow, 2),
            "exp" => (Function::Exp, 1),
            "sqrt" => (Function::Sqrt, 1),
            "abs" => (Function::Abs, 1),
            "floor" => (Function::Floor, 1),
            "ceil" => (Function::Ceil, 1),
            "round" => (Function::Round, 1),
            "min" => (Function::Min, 2),
            "max" => (Function::Max, 2),
            _ => return None,
        })
    }
}

impl RetryDelay {
    /// Parses `source`; the error says what is wrong and where.
    pub(crate) fn parse(source: &str) -> Result<RetryDelay, String> {
        let mut parser = Parser {
            bytes: source.as_bytes(),
            at: 0,
            depth: 0,
        };
        let root = parser.sum()?;
        parser.skip_spaces();
        if parser.at != parser.bytes.len() {
            return Err(format!("unexpected input at offset {}", parser.at));
        }
        Ok(RetryDelay {
            source: source.to_owned(),
            root,
        })
    }

    /// The expression as given.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The delay before the next attempt, `retried` retries having been
    /// made. A result that is not a finite non-negative number of
    /// milliseconds counts as 0; it is capped at one day like QStash's.
    pub(crate) fn delay(&self, retried: u32) -> Duration {
        let ms = eval(&self.root, f64::from(retried));
        if ms.is_nan() || ms <= 0.0 {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(ms / 1000.0)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY)
    }
}

fn eval(expr: &Expr, retried: f64) -> f64 {
    match expr {
        Expr::Number(value) => *value,
        Expr::Retried => retried,
        Expr::Neg(inner) => -eval(inner, retried),
        Expr::Binary(op, left, right) => {
            let (l, r) = (eval(left, retried), eval(right, retried));
            match op {
                Op::Add => l + r,
                Op::Sub => l - r,
                Op::Mul => l * r,
                Op::Div => l / r,
            }
        }
        Expr::Call(function, args) => {
            let arg = |i: usize| args.get(i).map_or(f64::NAN, |a| eval(a, retried));
            match function {
                Function::Pow => arg(0).powf(arg(1)),
                Function::Exp => arg(0).exp(),
                Function::Sqrt => arg(0).sqrt(),
                Function::Abs => arg(0).abs(),
                Function::Floor => arg(0).floor(),
                Function::Ceil => arg(0).ceil(),
                Function::Round => arg(0).round(),
                Function::Min => arg(0).min(arg(1)),
                Function::Max => arg(0).max(arg(1)),
            }
        }
    }
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.bytes.get(self.at).copied()
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.at += 1;
            let right = self.product()?;
            let op = if op == b'+' { Op::Add } else { Op::Sub };
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.at += 1;
            let right = self.unary()?;
            let op = if op == b'*' { Op::Mul } else { Op::Div };
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let expr = match self.peek() {
            Some(b'-') => {
                self.at += 1;
                Expr::Neg(Box::new(self.unary()?))
            }
            Some(b'+') => {
                self.at += 1;
                self.unary()?
            }
            _ => self.atom()?,
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let start = self.at;
        match self.peek() {
            Some(b'(') => {
                self.at += 1;
                let inner = self.sum()?;
                self.expect(b')')?;
                Ok(inner)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let begin = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
                {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.bytes[begin..self.at]).unwrap_or("");
                text.parse()
                    .map(Expr::Number)
                    .map_err(|_| format!("bad number `{text}` at offset {begin}"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let begin = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(u8::is_ascii_alphanumeric)
                {
                    self.at += 1;
                }
                let name = std::str::from_utf8(&self.bytes[begin..self.at]).unwrap_or("");
                if name == "retried" {
                    return Ok(Expr::Retried);
                }
                let (function, arity) = Function::from_name(name)
                    .ok_or_else(|| format!("unknown name `{name}` at offset {begin}"))?;
                self.expect(b'(')?;
                let mut args = vec![self.sum()?];
                while self.peek() == Some(b',') {
                    self.at += 1;
                    args.push(self.sum()?);
                }
                self.expect(b')')?;
                if args.len() != arity {
                    return Err(format!("`{name}` takes {arity} argument(s)"));
                }
                Ok(Expr::Call(function, args))
            }
            _ => Err(format!(
                "expected a number, `retried` or a call at offset {start}"
            )),
        }
    }

    fn expect(&mut self, wanted: u8) -> Result<(), String> {
        if self.peek() == Some(wanted) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at offset {}",
                wanted as char, self.at
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(expr: &str, retried: u32) -> u128 {
        RetryDelay::parse(expr).unwrap().delay(retried).as_millis()
    }

    #[test]
    fn documented_examples() {
        assert_eq!(ms("1000", 5), 1000);
        assert_eq!(ms("1000 * (1 + retried)", 0), 1000);
        assert_eq!(ms("1000 * (1 + retried)", 2), 3000);
        assert_eq!(ms("pow(2, retried) * 1000", 3), 8000);
        assert_eq!(ms("max(1000, pow(2, retried) * 100)", 0), 1000);
        assert_eq!(ms("max(1000, pow(2, retried) * 100)", 5), 3200);
        assert_eq!(
            ms(
                "min(sqrt(16), abs(-3)) + floor(1.5) + ceil(0.2) + round(2.5)",
                0
            ),
            8
        );
        assert_eq!(ms("exp(0) * 10 - -2 / 2", 0), 11);
    }

    #[test]
    fn refuses_garbage_without_panicking() {
        for bad in [
            "", "1 +", "foo(1)", "pow(1)", "(1", "1 2", "retried(", "1..2", "#",
        ] {
            assert!(RetryDelay::parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(RetryDelay::parse(&deep).is_err());
    }

    #[test]
    fn odd_results_are_clamped() {
        assert_eq!(ms("-5", 0), 0);
        assert_eq!(ms("0 / 0", 0), 0);
        assert_eq!(ms("1 / 0", 0), 86_400_000);
        assert_eq!(ms("pow(10, 30)", 0), 86_400_000);
    }

    #[test]
    fn default_backoff_matches_the_documented_table() {
        let secs: Vec<u64> = (0..5).map(|n| default_backoff(n).as_secs()).collect();
        assert_eq!(secs, [12, 148, 1808, 22026, 86_400]);
    }
}
