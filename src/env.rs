//! Reading environment variables, for the client's server and token and
//! the receiver's signing keys alike.

use crate::config_error::ConfigError;

/// A variable through `lookup`. Deployment tools pass unset variables as
/// empty strings, so an empty or blank value counts as unset.
pub(crate) fn env_var(
    lookup: &mut impl FnMut(&str) -> Result<Option<String>, ConfigError>,
    name: &str,
) -> Result<Option<String>, ConfigError> {
    Ok(lookup(name)?.filter(|value| !value.trim().is_empty()))
}

/// Reads a variable of the process environment; a value that is not
/// Unicode is an error rather than silently absent.
pub(crate) fn process_env(name: &str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode(name.into())),
    }
}
