//! What happens to every request between the generated builder and the
//! network: the fixes progenitor's output needs, auth, timeout, redaction.

use percent_encoding::percent_decode_str;
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use url::Url;

use crate::Client;
use crate::auth::{AuthMode, redact_error, redact_response};
use crate::client::ClientConfig;
use crate::generated::RAW_DESTINATION_OPERATIONS;

/// `qstash-rs/<version>`, sent on every request.
pub const USER_AGENT_VALUE: &str = concat!("qstash-rs/", env!("CARGO_PKG_VERSION"));

/// progenitor sends the spec's `info.version` in this header; QStash does
/// not use it and no official SDK sends it.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

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
        let headers = request.headers_mut();
        headers.remove(API_VERSION);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if RAW_DESTINATION_OPERATIONS.contains(&info.operation_id) {
            send_destination_raw(request.url_mut()).map_err(Error::InvalidRequest)?;
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

/// progenitor percent-encodes path parameters, `/` included; QStash's
/// official SDKs put the destination URL into the path as it is, its own
/// query string becoming the request's. The destination is always the last
/// path segment (`build.rs` only lists operations where it is), and
/// percent-decoding undoes `encode_path` exactly because it encodes `%` too.
///
/// A `#fragment` is refused: HTTP never sends one, so neither QStash nor the
/// destination would see it.
fn send_destination_raw(url: &mut Url) -> Result<(), String> {
    let path = url.path();
    let Some(start) = path.rfind('/').map(|slash| slash + 1) else {
        return Ok(());
    };
    let destination = percent_decode_str(&path[start..])
        .decode_utf8_lossy()
        .into_owned();
    if destination.contains('#') {
        return Err(format!(
            "destination `{destination}` has a #fragment, which HTTP never sends; remove it \
             (or percent-encode `#` as %23 if it belongs to the path or query)"
        ));
    }
    let (destination_path, destination_query) = match destination.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (destination.as_str(), None),
    };
    let raw_path = format!("{}{destination_path}", &path[..start]);
    url.set_path(&raw_path);
    if destination_query.is_some() {
        url.set_query(destination_query);
    }
    Ok(())
}

fn has_filter(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, _)| !NOT_A_FILTER.contains(&name.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(encoded_path: &str) -> String {
        let mut url = Url::parse("http://127.0.0.1:1").expect("static URL");
        url.set_path(encoded_path);
        send_destination_raw(&mut url).expect("no fragment");
        url[url::Position::BeforePath..].to_string()
    }

    #[test]
    fn destination_url_goes_raw() {
        assert_eq!(
            raw("/v2/publish/https:%2F%2Fexample.com%2Fapi"),
            "/v2/publish/https://example.com/api"
        );
    }

    #[test]
    fn destination_query_becomes_the_request_query() {
        assert_eq!(
            raw("/v2/publish/https:%2F%2Fexample.com%2Fapi%3Fx=1&y=2"),
            "/v2/publish/https://example.com/api?x=1&y=2"
        );
    }

    #[test]
    fn percent_escapes_inside_the_destination_survive() {
        let encoded = progenitor_client::encode_path("https://example.com/a%2Fb c");
        assert_eq!(
            raw(&format!("/v2/enqueue/q/{encoded}")),
            "/v2/enqueue/q/https://example.com/a%2Fb%20c"
        );
    }

    #[test]
    fn a_destination_fragment_is_refused() {
        let mut url = Url::parse("http://127.0.0.1:1").expect("static URL");
        url.set_path(&format!(
            "/v2/publish/{}",
            progenitor_client::encode_path("https://example.com/api#part")
        ));
        let error = send_destination_raw(&mut url).expect_err("fragment");
        assert!(error.contains("#fragment"), "{error}");
    }

    #[test]
    fn url_group_name_is_unchanged() {
        assert_eq!(raw("/v2/publish/my-group"), "/v2/publish/my-group");
    }
}
