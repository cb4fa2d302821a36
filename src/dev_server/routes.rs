//! Every operation of the vendored spec, routed: implemented ones to their
//! handlers, the rest (queues, schedules, flow control: part 2) to a 501
//! naming the operation.

use std::sync::Arc;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, delete, get, on, post};

use super::error::ApiError;
use super::state::Shared;
use super::{auth, dlq, keys, logs, messages, publish, url_groups};

/// Operations this part does not implement yet: (method, path, operation).
const NOT_IMPLEMENTED: &[(MethodFilter, &str, &str)] = &[
    (MethodFilter::POST, "/v2/queues", "upsert_queue"),
    (MethodFilter::GET, "/v2/queues", "list_queues"),
    (MethodFilter::GET, "/v2/queues/{queueName}", "get_queue"),
    (
        MethodFilter::DELETE,
        "/v2/queues/{queueName}",
        "delete_queue",
    ),
    (
        MethodFilter::POST,
        "/v2/queues/{queueName}/pause",
        "pause_queue",
    ),
    (
        MethodFilter::POST,
        "/v2/queues/{queueName}/resume",
        "resume_queue",
    ),
    (MethodFilter::GET, "/v2/schedules", "list_schedules"),
    (
        MethodFilter::GET,
        "/v2/flowControl",
        "list_flow_control_keys",
    ),
    (
        MethodFilter::GET,
        "/v2/flowControl/{key}",
        "get_flow_control_key",
    ),
    (
        MethodFilter::POST,
        "/v2/flowControl/{key}/pause",
        "pause_flow_control_key",
    ),
    (
        MethodFilter::POST,
        "/v2/flowControl/{key}/resume",
        "resume_flow_control_key",
    ),
    (
        MethodFilter::POST,
        "/v2/flowControl/{key}/pin",
        "pin_flow_control_key",
    ),
    (
        MethodFilter::POST,
        "/v2/flowControl/{key}/unpin",
        "unpin_flow_control_key",
    ),
    (
        MethodFilter::POST,
        "/v2/flowControl/{key}/resetRate",
        "reset_flow_control_rate",
    ),
    (
        MethodFilter::GET,
        "/v2/globalParallelism",
        "get_global_parallelism",
    ),
];

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut api = Router::new()
        .route("/v2/publish/{*destination}", post(publish::publish))
        .route("/v2/enqueue/{queue}/{*destination}", post(publish::enqueue))
        .route("/v2/batch", post(publish::batch))
        .route(
            "/v2/messages/{id}",
            get(messages::get).delete(messages::cancel),
        )
        .route("/v2/messages", delete(messages::cancel_many))
        .route("/v2/topics", get(url_groups::list))
        .route(
            "/v2/topics/{name}",
            get(url_groups::get).delete(url_groups::delete),
        )
        .route(
            "/v2/topics/{name}/endpoints",
            post(url_groups::upsert_endpoints).delete(url_groups::remove_endpoints),
        )
        .route("/v2/dlq", get(dlq::list).delete(dlq::delete_many))
        .route("/v2/dlq/{id}", get(dlq::get).delete(dlq::delete))
        .route("/v2/dlq/retry/{id}", post(dlq::retry))
        .route("/v2/dlq/retry", post(dlq::retry_many))
        .route("/v2/keys", get(keys::get))
        .route("/v2/keys/rotate", post(keys::rotate))
        .route("/v2/logs", get(logs::list))
        .route("/v2/events", get(logs::events))
        // A schedule's destination is a URL with slashes, so one wildcard
        // route serves create, get, delete, pause and resume.
        .route(
            "/v2/schedules/{*rest}",
            on(
                MethodFilter::GET
                    .or(MethodFilter::POST)
                    .or(MethodFilter::PATCH)
                    .or(MethodFilter::DELETE),
                schedule,
            ),
        );
    for (method, path, operation) in NOT_IMPLEMENTED {
        api = api.route(path, not_implemented(*method, operation));
    }
    api.route_layer(from_fn_with_state(Arc::clone(&shared), auth::require_token))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .layer(map_response(json_errors))
        .with_state(shared)
}

fn not_implemented(method: MethodFilter, operation: &'static str) -> MethodRouter<Arc<Shared>> {
    on(method, move || async move { part_two(operation) })
}

fn part_two(operation: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        format!("{operation} is not implemented by this dev server yet"),
    )
}

async fn schedule(request: Request) -> ApiError {
    let rest = request.uri().path().trim_start_matches("/v2/schedules/");
    let action = rest.rsplit_once('/').map(|(_, last)| last);
    let operation = match (request.method(), action) {
        // The official SDKs send PATCH where the spec says POST.
        (&Method::POST | &Method::PATCH, Some("pause")) if !rest.contains("://") => {
            "pause_schedule"
        }
        (&Method::POST | &Method::PATCH, Some("resume")) if !rest.contains("://") => {
            "resume_schedule"
        }
        (&Method::POST, _) => "create_schedule",
        (&Method::GET, _) => "get_schedule",
        (&Method::DELETE, _) => "delete_schedule",
        _ => {
            return ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            );
        }
    };
    part_two(operation)
}

/// Rejections axum produces itself (a path that is not UTF-8, a body over
/// the limit) come as text; every error leaves as `{"error": ...}`.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    ApiError::new(status, message).into_response()
}
