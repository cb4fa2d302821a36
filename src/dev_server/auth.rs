//! Every API request carries the server's token, as a bearer token or the
//! `qstash_token` query parameter, like QStash's.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use ring::digest::{SHA256, digest};

use super::error::ApiError;
use super::state::Shared;

pub(crate) async fn require_token(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default())
        .map(|value| value.strip_prefix("Bearer ").unwrap_or_default().trim());
    let query = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == crate::TOKEN_QUERY_PARAMETER)
            .map(|(_, value)| value.into_owned())
    });
    let given = match (bearer, query.as_deref()) {
        (Some(token), _) => token,
        (None, Some(token)) => token,
        (None, None) => {
            return Err(ApiError::unauthorized(
                "missing token: send `Authorization: Bearer <token>` or `?qstash_token=<token>`",
            ));
        }
    };
    // Comparing digests: how long the comparison takes says nothing about
    // how much of the token was right.
    if digest(&SHA256, given.as_bytes()).as_ref()
        != digest(&SHA256, shared.token.as_bytes()).as_ref()
    {
        return Err(ApiError::unauthorized("invalid token"));
    }
    Ok(next.run(request).await)
}
