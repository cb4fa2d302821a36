//! How a secret (a token, a signing key, a signature) shows where it must
//! not: in `Debug` output, errors and whatever a server echoes back.

/// What stands in for a secret.
pub(crate) const REDACTED: &str = "REDACTED";
