//! Verifying deliveries given as [`http`] requests, for any framework built
//! on the `http` crate.

use http::header::HOST;
use http::request::Parts;
use http::{HeaderMap, Request, Uri};

use super::error::Malformed;
use super::{Claims, Delivery, Receiver, Region, VerifyError};

/// The header carrying the token (header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "upstash-signature";
/// The header naming the region that signed the delivery.
pub const REGION_HEADER: &str = "upstash-region";

/// Where the URL compared with the token's `sub` claim comes from.
#[derive(Debug, Clone)]
enum UrlSource {
    Request,
    PublicBase(String),
    Unchecked,
}

/// A [`Receiver`] plus how to find the URL a request was sent to, which
/// verifies whole [`http`] requests.
///
/// By default the URL is taken from the request: an absolute request
/// target as is, otherwise `https://` + the `Host` header + the path and
/// query. Behind a proxy that changes scheme, host or path prefix, set
/// [`public_base_url`](RequestVerifier::public_base_url).
///
/// ```
/// use qstash::receiver::{Receiver, RequestVerifier, Signer};
///
/// let verifier = RequestVerifier::new(Receiver::new("sig_current", "sig_next")?)
///     .public_base_url("https://api.example.com");
/// # let token = Signer::new("sig_current")?.sign("https://api.example.com/jobs?id=1", b"{}");
/// let request = http::Request::post("/jobs?id=1")
///     .header("Upstash-Signature", token)
///     .body(b"{}".to_vec())?;
/// let claims = verifier.verify_request(&request)?;
/// assert_eq!(claims.url, "https://api.example.com/jobs?id=1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestVerifier {
    receiver: Receiver,
    url: UrlSource,
}

impl RequestVerifier {
    /// Verifies with `receiver`, checking `sub` against the request URL.
    pub fn new(receiver: Receiver) -> RequestVerifier {
        RequestVerifier {
            receiver,
            url: UrlSource::Request,
        }
    }

    /// The URL clients see this service at, e.g. `https://api.example.com`
    /// or `https://example.com/service` when a proxy strips `/service`; the
    /// request's path and query are appended to it.
    pub fn public_base_url(mut self, base: impl Into<String>) -> RequestVerifier {
        let mut base = base.into();
        while base.ends_with('/') {
            base.pop();
        }
        self.url = UrlSource::PublicBase(base);
        self
    }

    /// Does not compare `sub` with any URL. A token for another endpoint of
    /// the same QStash account then verifies here too, within its lifetime.
    pub fn skip_url_check(mut self) -> RequestVerifier {
        self.url = UrlSource::Unchecked;
        self
    }

    /// The receiver holding the keys.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// Verifies a request given as parts and its complete raw body.
    pub fn verify(&self, parts: &Parts, body: &[u8]) -> Result<Claims, VerifyError> {
        self.verify_with_uri(&parts.headers, &parts.uri, body)
    }

    /// Verifies a request whose complete raw body is in memory.
    pub fn verify_request<B: AsRef<[u8]>>(
        &self,
        request: &Request<B>,
    ) -> Result<Claims, VerifyError> {
        self.verify_with_uri(request.headers(), request.uri(), request.body().as_ref())
    }

    /// `uri` is the target as the client sent it: frameworks that rewrite
    /// the request URI for nested routers pass the original here.
    pub(super) fn verify_with_uri(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        body: &[u8],
    ) -> Result<Claims, VerifyError> {
        let mut values = headers.get_all(SIGNATURE_HEADER).iter();
        let signature = match (values.next(), values.next()) {
            (None, _) => return Err(VerifyError::MissingSignature),
            (Some(value), None) => value
                .to_str()
                .map_err(|_| VerifyError::Malformed(Malformed::HeaderValue))?,
            (Some(_), Some(_)) => return Err(VerifyError::Malformed(Malformed::HeaderValue)),
        };
        let region = headers
            .get(REGION_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|name| Region::from_name(name).ok());
        let url = self.url_of(headers, uri)?;
        let mut delivery = Delivery::new(signature, body).region(region);
        if let Some(url) = &url {
            delivery = delivery.url(url);
        }
        self.receiver.verify(delivery)
    }

    fn url_of(&self, headers: &HeaderMap, uri: &Uri) -> Result<Option<String>, VerifyError> {
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        match &self.url {
            UrlSource::Unchecked => Ok(None),
            UrlSource::PublicBase(base) => Ok(Some(format!("{base}{path_and_query}"))),
            UrlSource::Request => {
                if let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) {
                    return Ok(Some(format!("{scheme}://{authority}{path_and_query}")));
                }
                let host = headers
                    .get(HOST)
                    .and_then(|host| host.to_str().ok())
                    .filter(|host| !host.is_empty())
                    .ok_or(VerifyError::RequestUrl)?;
                Ok(Some(format!("https://{host}{path_and_query}")))
            }
        }
    }
}
