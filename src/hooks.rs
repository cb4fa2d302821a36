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
            send_destination_raw(request.url_mut());
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
fn send_destination_raw(url: &mut Url) {
    let path = url.path();
    let Some(start) = path.rfind('/').map(|slash| slash + 1) else {
        return;
    };
    let destination = percent_decode_str(&path[start..])
        .decode_utf8_lossy()
        .into_owned();
    let (destination_path, destination_query) = match destination.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (destination.as_str(), None),
    };
    let raw_path = format!("{}{destination_path}", &path[..start]);
    url.set_path(&raw_path);
    if destination_query.is_some() {
        url.set_query(destination_query);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(encoded_path: &str) -> String {
        let mut url = Url::parse("http://127.0.0.1:1").expect("static URL");
        url.set_path(encoded_path);
        send_destination_raw(&mut url);
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
    fn url_group_name_is_unchanged() {
        assert_eq!(raw("/v2/publish/my-group"), "/v2/publish/my-group");
    }
}
