//! Errors the server answers with: a status and QStash's `{"error": ...}` body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A request the server refuses, answered as `{"error": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = crate::types::Error {
            error: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// What starting a [`DevServer`](super::DevServer) can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: std::net::SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A signing key was empty, or the deliveries' TLS could not be set up.
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    /// The HTTP client for deliveries could not be built.
    #[error("cannot build the delivery HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}
