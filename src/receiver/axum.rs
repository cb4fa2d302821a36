//! An [axum] extractor that only lets verified QStash deliveries through.
//!
//! The extractors take a [`RequestVerifier`] from the router state (directly
//! or through [`FromRef`]), read the whole body, verify it, and reject with
//! `401 Unauthorized` and a short reason otherwise.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, OriginalUri, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::{Claims, RequestVerifier, VerifyError};

/// The raw body of a verified delivery and its claims.
///
/// ```
/// use axum::{Router, routing::post};
/// use qstash::receiver::{Receiver, RequestVerifier, VerifiedBody};
///
/// async fn handle(delivery: VerifiedBody) -> String {
///     format!("{} bytes for {}", delivery.body.len(), delivery.claims.url)
/// }
///
/// let verifier = RequestVerifier::new(Receiver::new("sig_current", "sig_next")?)
///     .public_base_url("https://api.example.com");
/// let app: Router = Router::new().route("/jobs", post(handle)).with_state(verifier);
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedBody {
    /// The body exactly as received.
    pub body: Bytes,
    /// The verified claims.
    pub claims: Claims,
}

/// A verified delivery whose body is JSON, deserialized into `T`.
///
/// The body is checked against the signature before it is parsed, and
/// parsed whatever its `Content-Type`: QStash forwards the publisher's.
///
/// ```
/// use axum::{Router, routing::post};
/// use qstash::receiver::{Receiver, RequestVerifier, VerifiedJson};
///
/// #[derive(serde::Deserialize)]
/// struct Job { id: u64 }
///
/// async fn handle(VerifiedJson { value, .. }: VerifiedJson<Job>) -> String {
///     format!("job {}", value.id)
/// }
///
/// let verifier = RequestVerifier::new(Receiver::new("sig_current", "sig_next")?);
/// let app: Router = Router::new().route("/jobs", post(handle)).with_state(verifier);
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedJson<T> {
    /// The deserialized body.
    pub value: T,
    /// The verified claims.
    pub claims: Claims,
}

/// Why an extractor refused a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyRejection {
    /// The delivery failed verification: `401` with the reason.
    Unauthorized(VerifyError),
    /// The body could not be read (for instance, over the body limit):
    /// axum's own response.
    Body(BytesRejection),
    /// The verified body is not JSON of the expected shape: `422`.
    Json(serde_json::Error),
}

impl IntoResponse for VerifyRejection {
    fn into_response(self) -> Response {
        match self {
            VerifyRejection::Unauthorized(err) => {
                (StatusCode::UNAUTHORIZED, err.to_string()).into_response()
            }
            VerifyRejection::Body(rejection) => rejection.into_response(),
            VerifyRejection::Json(err) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("invalid JSON body: {err}"),
            )
                .into_response(),
        }
    }
}

impl<S> FromRequest<S> for VerifiedBody
where
    RequestVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = VerifyRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = RequestVerifier::from_ref(state);
        let headers = request.headers().clone();
        // Inside a nested router the URI has lost its prefix; QStash signed
        // the full one.
        let uri = match request.extensions().get::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri.clone(),
            None => request.uri().clone(),
        };
        let body = Bytes::from_request(request, state)
            .await
            .map_err(VerifyRejection::Body)?;
        let claims = verifier
            .verify_with_uri(&headers, &uri, &body)
            .map_err(VerifyRejection::Unauthorized)?;
        Ok(VerifiedBody { body, claims })
    }
}

impl<S, T> FromRequest<S> for VerifiedJson<T>
where
    RequestVerifier: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = VerifyRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let VerifiedBody { body, claims } = VerifiedBody::from_request(request, state).await?;
        let value = serde_json::from_slice(&body).map_err(VerifyRejection::Json)?;
        Ok(VerifiedJson { value, claims })
    }
}
