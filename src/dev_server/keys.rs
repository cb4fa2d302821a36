//! The signing keys deliveries are signed with, and their rotation.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::error::ApiError;
use super::state::{Shared, SigningKeys, random_id};
use crate::types;

fn view(keys: &SigningKeys) -> types::SigningKeys {
    types::SigningKeys {
        current: Some(keys.current.clone()),
        next: Some(keys.next.clone()),
        ..Default::default()
    }
}

pub(crate) async fn get(State(shared): State<Arc<Shared>>) -> Json<types::SigningKeys> {
    Json(view(&shared.lock().keys))
}

/// The next key becomes the current one, and a fresh next key is made, so
/// receivers holding both keep verifying throughout.
pub(crate) async fn rotate(
    State(shared): State<Arc<Shared>>,
) -> Result<Json<types::SigningKeys>, ApiError> {
    let mut state = shared.lock();
    let fresh = random_id("sig_");
    let rotated = SigningKeys::new(&state.keys.next, &fresh)
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    state.keys = rotated;
    Ok(Json(view(&state.keys)))
}
