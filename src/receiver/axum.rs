//! [axum] extractors that only let verified QStash deliveries through.
//!
//! They take a [`RequestVerifier`] from the router state (directly or
//! through [`FromRef`]) and do what [`RequestVerifier::verify_head`]
//! describes: the token and headers are verified before any of the body is
//! read, the body is read up to the verifier's
//! [`max_body_bytes`](RequestVerifier::max_body_bytes) (not axum's
//! `DefaultBodyLimit`, whose 2 MB would refuse larger legitimate
//! deliveries), then checked against the signed hash. A refusal answers
//! `401 Unauthorized` (`413 Payload Too Large` for a body over the limit)
//! with a short reason.

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequest, OriginalUri, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use super::{Claims, DeliveryHeaders, RequestVerifier, Verified, VerifyError};
use crate::bounded::{BoundedBody, OverLimit};

/// The raw body of a verified delivery, its claims and QStash's delivery
/// headers.
///
/// ```
/// use axum::{Router, routing::post};
/// use qstash::receiver::{Receiver, RequestVerifier, VerifiedBody};
///
/// async fn handle(delivery: VerifiedBody) -> String {
///     // The same on every retry of the message: the idempotency key.
///     let id = delivery.delivery.message_id.unwrap_or_default();
///     format!("{} bytes of {id} for {}", delivery.body.len(), delivery.claims.url)
/// }
///
/// let verifier = RequestVerifier::new(
///     Receiver::new("sig_current", "sig_next")?,
///     "https://api.example.com",
/// )?;
/// let app: Router = Router::new().route("/jobs", post(handle)).with_state(verifier);
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedBody {
    /// The body exactly as received.
    pub body: Bytes,
    /// The verified claims.
    pub claims: Claims,
    /// QStash's delivery headers; `delivery.message_id` is the idempotency key.
    pub delivery: DeliveryHeaders,
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
/// async fn handle(VerifiedJson { value, delivery, .. }: VerifiedJson<Job>) -> String {
///     format!("job {} (retried {:?} times)", value.id, delivery.retried)
/// }
///
/// let verifier = RequestVerifier::new(
///     Receiver::new("sig_current", "sig_next")?,
///     "http://127.0.0.1:3000",
/// )?;
/// let app: Router = Router::new().route("/jobs", post(handle)).with_state(verifier);
/// # Ok::<(), qstash::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedJson<T> {
    /// The deserialized body.
    pub value: T,
    /// The verified claims.
    pub claims: Claims,
    /// QStash's delivery headers; `delivery.message_id` is the idempotency key.
    pub delivery: DeliveryHeaders,
}

/// Why an extractor refused a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyRejection {
    /// The delivery failed verification, or its body is over the limit:
    /// [`VerifyError::status`] with the reason.
    Refused(VerifyError),
    /// The body could not be read (the connection failed): `400`.
    Body(axum::Error),
    /// The verified body is not JSON of the expected shape: `422`.
    Json(serde_json::Error),
}

impl IntoResponse for VerifyRejection {
    fn into_response(self) -> Response {
        match self {
            VerifyRejection::Refused(err) => (err.status(), err.to_string()).into_response(),
            VerifyRejection::Body(err) => (
                StatusCode::BAD_REQUEST,
                format!("the body could not be read: {err}"),
            )
                .into_response(),
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
        let (parts, body) = request.into_parts();
        // Inside a nested router the URI has lost its prefix; QStash signed
        // the full one.
        let target = match parts.extensions.get::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri,
            None => &parts.uri,
        };
        let head = verifier
            .verify_head(&parts.headers, target)
            .map_err(VerifyRejection::Refused)?;
        let declared = http_body::Body::size_hint(&body).exact();
        let body = read(body, head.body_limit(), declared).await?;
        let Verified { claims, delivery } =
            head.verify_body(&body).map_err(VerifyRejection::Refused)?;
        Ok(VerifiedBody {
            body,
            claims,
            delivery,
        })
    }
}

/// The whole body, or [`VerifyError::BodyTooLarge`] as soon as it passes
/// `limit`: no more than `limit` bytes are ever held.
async fn read(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, VerifyRejection> {
    let mut stream = body.into_data_stream();
    let mut bytes = BoundedBody::new(limit, declared);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(VerifyRejection::Body)?;
        bytes
            .push(&chunk)
            .map_err(|OverLimit| VerifyRejection::Refused(VerifyError::BodyTooLarge { limit }))?;
    }
    Ok(bytes.into_bytes())
}

impl<S, T> FromRequest<S> for VerifiedJson<T>
where
    RequestVerifier: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = VerifyRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let VerifiedBody {
            body,
            claims,
            delivery,
        } = VerifiedBody::from_request(request, state).await?;
        let value = serde_json::from_slice(&body).map_err(VerifyRejection::Json)?;
        Ok(VerifiedJson {
            value,
            claims,
            delivery,
        })
    }
}
