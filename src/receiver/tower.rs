//! A [tower] layer that lets only verified QStash deliveries through to the
//! service it wraps, whichever framework serves it (axum, tonic, hyper).
//!
//! [tower]: https://docs.rs/tower

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt as _, Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use super::extract::{BodyError, read_verified};
use super::{RequestVerifier, Verified, VerifyRejection};

/// The body of a verified request, as the wrapped service receives it:
/// the bytes that verified, read whole.
pub type VerifiedRequestBody = Full<Bytes>;

/// The body of a [`VerifyService`]'s answers: a refusal's reason (`Left`),
/// or the wrapped service's body (`Right`).
pub type VerifyResponseBody<B> = Either<Full<Bytes>, B>;

/// Verifies every request before the wrapped service sees it: the token and
/// headers first ([`RequestVerifier::verify_head`]), without reading the
/// body; then the body, read up to
/// [`max_body_bytes`](RequestVerifier::max_body_bytes) and checked against
/// the signed hash. A verified request goes on with its body in memory
/// ([`VerifiedRequestBody`]) and a [`Verified`] (claims and QStash's
/// delivery headers) in its extensions. A refused one never reaches the
/// service: the layer answers `401 Unauthorized` (`413 Payload Too Large`
/// for a body over the limit, `400` for a body that could not be read)
/// with the reason as plain text.
///
/// In axum (where the extractors `VerifiedBody` and `VerifiedJson` are the
/// more direct way), read the delivery with `Extension<Verified>`. axum's
/// body extractors apply its `DefaultBodyLimit` (2 MB) again to the body
/// the layer passes on, which would refuse larger legitimate deliveries;
/// the layer has bounded it already, so lift axum's limit:
///
/// ```
/// use axum::extract::DefaultBodyLimit;
/// use axum::{Extension, Router, routing::post};
/// use qstash::receiver::{Receiver, RequestVerifier, Verified, VerifyLayer};
///
/// async fn handle(Extension(verified): Extension<Verified>, body: axum::body::Bytes) -> String {
///     // The same on every retry of the message: the idempotency key.
///     let id = verified.delivery.message_id.unwrap_or_default();
///     format!("{} bytes of {id} for {}", body.len(), verified.claims.url)
/// }
///
/// let verifier = RequestVerifier::new(
///     Receiver::new("sig_current", "sig_next")?,
///     "https://api.example.com",
/// )?;
/// let app: Router = Router::new()
///     .route("/jobs", post(handle))
///     .layer(DefaultBodyLimit::disable())
///     .layer(VerifyLayer::new(verifier));
/// # Ok::<(), qstash::ConfigError>(())
/// ```
///
/// In tonic or a hyper service, `request.extensions().get::<Verified>()`.
/// Put the layer outside any router that strips a path prefix: QStash
/// signed the full URL. (Inside an axum router the layer reads axum's
/// `OriginalUri`, when the `axum` feature is on.)
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<RequestVerifier>,
}

impl VerifyLayer {
    /// A layer verifying with `verifier`.
    pub fn new(verifier: RequestVerifier) -> VerifyLayer {
        VerifyLayer {
            verifier: Arc::new(verifier),
        }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> VerifyService<S> {
        VerifyService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`VerifyLayer`] wraps around `S`; see there.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    verifier: Arc<RequestVerifier>,
}

impl<S, B, ResBody> Service<Request<B>> for VerifyService<S>
where
    S: Service<Request<VerifiedRequestBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BodyError>,
{
    type Response = Response<VerifyResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service that was polled ready serves this request; the clone
        // left behind waits for its own `poll_ready`.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (mut parts, body) = request.into_parts();
        let head = self
            .verifier
            .verify_head(&parts.headers, target(&parts))
            .map_err(VerifyRejection::Refused);
        Box::pin(async move {
            let (body, verified) = match head {
                Ok(head) => match read_verified(head, body.into_data_stream()).await {
                    Ok(read) => read,
                    Err(rejection) => return Ok(refusal(&rejection)),
                },
                Err(rejection) => return Ok(refusal(&rejection)),
            };
            parts.extensions.insert::<Verified>(verified);
            let request = Request::from_parts(parts, Full::new(body));
            let response = inner.call(request).await?;
            Ok(response.map(Either::Right))
        })
    }
}

/// The request target QStash signed: axum's `OriginalUri` when a router
/// nested this service, else the request's own.
fn target(parts: &http::request::Parts) -> &http::Uri {
    #[cfg(feature = "axum")]
    return super::axum::original_uri(parts);
    #[cfg(not(feature = "axum"))]
    return &parts.uri;
}

fn refusal<B>(rejection: &VerifyRejection) -> Response<VerifyResponseBody<B>> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(rejection.to_string()))));
    *response.status_mut() = rejection.status();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
