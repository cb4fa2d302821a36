//! The names users choose for queues, URL groups and schedule ids follow
//! one rule, QStash's: letters, digits, `-`, `_` and `.`.

use super::error::ApiError;

/// Checks `name`; `what` says what it names in the error ("queue name").
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid {what} `{name}`: use letters, digits, `-`, `_` and `.`"
        )))
    }
}
