//! What happens to every request between the generated builder and the
//! network: checks, User-Agent, auth, timeout, and redaction of what comes back.

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderValue, USER_AGENT};
use url::Url;

use crate::api::Client;
use crate::auth::{AuthMode, redact_error, redact_response};
use crate::client::ClientConfig;

/// `qstash-rs/<version>`, sent on every request.
pub const USER_AGENT_VALUE: &str = concat!("qstash-rs/", env!("CARGO_PKG_VERSION"));

/// Bulk operations that act on every message when they carry no ids and no
/// filter. An id list that came out empty serializes to no parameter at all,
/// so it would turn into exactly that request.
const ALL_WHEN_UNFILTERED: &[&str] = &[
    "cancel_messages",
    "delete_dlq_messages",
    "retry_dlq_messages",
];

/// Query parameters of those operations that page or limit, not select.
const NOT_A_FILTER: &[&str] = &["cursor", "count"];

impl ClientHooks<ClientConfig> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        // Destinations go into the path unencoded (see build/generate.rs),
        // so a `#` in one ends the URL: HTTP would silently drop the rest.
        if let Some(fragment) = request.url().fragment() {
            return Err(Error::InvalidRequest(format!(
                "the destination has a #fragment (`#{fragment}`), which HTTP never sends; \
                 remove it, or percent-encode `#` as %23 if it belongs to the path or query"
            )));
        }
        if ALL_WHEN_UNFILTERED.contains(&info.operation_id)
            && !self.inner.allow_unfiltered_bulk
            && !has_filter(request.url())
        {
            return Err(Error::InvalidRequest(format!(
                "{} without ids or filters would act on every message; pass ids or a filter, \
                 or use `Client::allow_unfiltered_bulk` to mean everything",
                info.operation_id
            )));
        }
        let headers = request.headers_mut();
        for (name, value) in &self.inner.message_headers {
            headers.append(name, value.clone());
        }
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        self.inner.credentials.apply(request);
        *request.timeout_mut() = Some(self.inner.timeout);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let result = self.client().execute(request).await;
        match self.inner.credentials.mode() {
            AuthMode::Bearer => result,
            // From here on the URL reaches callers (in errors and in
            // `Error::UnexpectedResponse`), so the token leaves it now.
            AuthMode::QueryParameter => result.map(redact_response).map_err(redact_error),
        }
    }
}

fn has_filter(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, _)| !NOT_A_FILTER.contains(&name.as_ref()))
}
