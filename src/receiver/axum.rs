//! [`VerifiedBody`] and [`VerifiedJson`] as [axum] extractors: the
//! [`RequestVerifier`] from the router state (directly or through
//! [`FromRef`]), the request's original URI, its body as a stream.

use axum::extract::{FromRef, FromRequest, OriginalUri, Request};
use axum::response::{IntoResponse, Response};
use http::Uri;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::extract::read_verified;
use super::{RequestVerifier, VerifiedBody, VerifiedJson, VerifyRejection};

impl IntoResponse for VerifyRejection {
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
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
        let head = verifier
            .verify_head(&parts.headers, original_uri(&parts))
            .map_err(VerifyRejection::Refused)?;
        let (body, verified) = read_verified(head, body.into_data_stream()).await?;
        Ok(VerifiedBody::new(body, verified))
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
        VerifiedBody::from_request(request, state).await?.json()
    }
}

/// The URI the client sent: inside a nested router axum's has lost its
/// prefix, and QStash signed the full one.
pub(super) fn original_uri(parts: &Parts) -> &Uri {
    match parts.extensions.get::<OriginalUri>() {
        Some(OriginalUri(uri)) => uri,
        None => &parts.uri,
    }
}
