//! What the framework integrations (axum and actix-web extractors, the
//! tower layer) share: the body read after the head verified, within the
//! limit, the verified delivery they hand on, and why they refuse one.
//! Each framework's file only adapts its request and response types.

use bytes::{Buf, Bytes};
use futures_core::Stream;
use futures_util::StreamExt as _;

use super::{SignedHead, Verified, VerifyError};
use crate::bounded::{BoundedBody, OverLimit};

/// An error from reading a request body, whatever the framework's own type.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// Why an extractor or the tower layer (`VerifyLayer`) refused a request.
///
/// Its `Display` is the reason the refusal answers with; like
/// [`VerifyError`]'s, it never holds the token, the body or a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyRejection {
    /// The delivery failed verification, or its body is over the limit:
    /// [`VerifyError::status`] with the reason.
    #[error(transparent)]
    Refused(VerifyError),
    /// The body could not be read (the connection failed): `400`.
    #[error("the body could not be read: {0}")]
    Body(BodyError),
    /// The verified body is not JSON of the expected shape: `422`.
    #[error("invalid JSON body: {0}")]
    Json(serde_json::Error),
    /// actix-web only: the app has no [`RequestVerifier`](super::RequestVerifier)
    /// in its app data, so nothing could be verified: `500`.
    #[error("no RequestVerifier in the app data")]
    NoVerifier,
}

impl VerifyRejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            VerifyRejection::Refused(err) => err.status(),
            VerifyRejection::Body(_) => http::StatusCode::BAD_REQUEST,
            VerifyRejection::Json(_) => http::StatusCode::UNPROCESSABLE_ENTITY,
            VerifyRejection::NoVerifier => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The second step, once `head` verified: reads `body` (its data chunks) up
/// to the head's limit, refusing it as soon as it passes, so no more than
/// the limit is ever held, then checks it against the signed hash.
pub(super) async fn read_verified<S, D, E>(
    head: SignedHead,
    body: S,
) -> Result<(Bytes, Verified), VerifyRejection>
where
    S: Stream<Item = Result<D, E>>,
    D: Buf,
    E: Into<BodyError>,
{
    let limit = head.body_limit();
    let mut bytes = BoundedBody::new(limit, head.declared_length());
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|err| VerifyRejection::Body(err.into()))?;
        while chunk.has_remaining() {
            // A `Bytes` chunk is handed over without a copy.
            let part = chunk.copy_to_bytes(chunk.chunk().len());
            bytes.push(&part).map_err(|OverLimit| {
                VerifyRejection::Refused(VerifyError::BodyTooLarge { limit })
            })?;
        }
    }
    let body = bytes.into_bytes();
    let verified = head.verify_body(&body).map_err(VerifyRejection::Refused)?;
    Ok((body, verified))
}

#[cfg(any(feature = "axum", feature = "actix-web"))]
pub use self::extractors::{VerifiedBody, VerifiedJson};

/// The extractors' types, one for axum and actix-web alike.
#[cfg(any(feature = "axum", feature = "actix-web"))]
mod extractors {
    use bytes::Bytes;
    use serde::de::DeserializeOwned;

    use super::VerifyRejection;
    use crate::receiver::{Claims, DeliveryHeaders, Verified};

    /// The raw body of a verified delivery, its claims and QStash's
    /// delivery headers: an extractor for axum (feature `axum`; the
    /// [`RequestVerifier`](crate::receiver::RequestVerifier) comes from the
    /// router state, directly or through `FromRef`) and actix-web (feature
    /// `actix-web`; from the app data, as it is or in `web::Data`).
    ///
    /// The token and headers are verified before any of the body is read,
    /// the body is read up to the verifier's
    /// [`max_body_bytes`](crate::receiver::RequestVerifier::max_body_bytes)
    /// (not the framework's own limit: axum's `DefaultBodyLimit` of 2 MB or
    /// actix-web's `PayloadConfig` of 256 kB would refuse larger legitimate
    /// deliveries), then checked against the signed hash. A refusal answers
    /// `401 Unauthorized` (`413 Payload Too Large` for a body over the
    /// limit) with a short reason: see [`VerifyRejection`].
    ///
    /// ```
    /// # #[cfg(feature = "axum")] {
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
    /// # }
    /// # Ok::<(), qstash::ConfigError>(())
    /// ```
    ///
    /// ```
    /// # #[cfg(feature = "actix-web")] {
    /// use actix_web::{App, web};
    /// use qstash::receiver::{Receiver, RequestVerifier, VerifiedBody};
    ///
    /// async fn handle(delivery: VerifiedBody) -> String {
    ///     format!("{} bytes for {}", delivery.body.len(), delivery.claims.url)
    /// }
    ///
    /// let verifier = RequestVerifier::new(
    ///     Receiver::new("sig_current", "sig_next")?,
    ///     "https://api.example.com",
    /// )?;
    /// let app = App::new()
    ///     .app_data(verifier)
    ///     .route("/jobs", web::post().to(handle));
    /// # }
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

    /// A verified delivery whose body is JSON, deserialized into `T`: an
    /// extractor for axum and actix-web, as [`VerifiedBody`] is.
    ///
    /// The body is checked against the signature before it is parsed, and
    /// parsed whatever its `Content-Type`: QStash forwards the publisher's.
    ///
    /// ```
    /// # #[cfg(feature = "axum")] {
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
    /// # }
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

    impl VerifiedBody {
        pub(in crate::receiver) fn new(body: Bytes, verified: Verified) -> VerifiedBody {
            VerifiedBody {
                body,
                claims: verified.claims,
                delivery: verified.delivery,
            }
        }

        /// The body parsed as JSON, now that it verified.
        pub(in crate::receiver) fn json<T: DeserializeOwned>(
            self,
        ) -> Result<VerifiedJson<T>, VerifyRejection> {
            let value = serde_json::from_slice(&self.body).map_err(VerifyRejection::Json)?;
            Ok(VerifiedJson {
                value,
                claims: self.claims,
                delivery: self.delivery,
            })
        }
    }
}
