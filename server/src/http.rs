//! HTTP routes: the WebSocket upgrade and health. Errors are JSON bodies with a stable code.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::connection::{self, ConnectionContext};

pub struct AppState {
    pub connections: ConnectionContext,
    pub open_connections: AtomicUsize,
    pub next_connection: AtomicU64,
    pub tasks: tokio_util::task::TaskTracker,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/ws/{doc}", get(upgrade))
        .with_state(state)
}

/// An error answered as `{ "error": code, "message": ... }`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response()
    }
}

/// Document ids appear in URLs, logs and storage keys: keep them plain.
pub fn validate_document_id(doc: &str) -> Result<(), ApiError> {
    let valid = !doc.is_empty()
        && doc.len() <= 128
        && doc
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !doc.starts_with('.');
    if valid {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_document_id",
            "document ids are 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
        ))
    }
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "documents_loaded": state.connections.rooms.loaded(),
        "connections": state.open_connections.load(Ordering::Relaxed),
    }))
}

async fn upgrade(
    State(state): State<Arc<AppState>>,
    Path(doc): Path<String>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    validate_document_id(&doc)?;
    if state.connections.shutdown.is_cancelled() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        ));
    }
    let limit = state.connections.config.max_frame_bytes;
    let document: Arc<str> = doc.into();
    let upgraded = Arc::clone(&state);
    Ok(ws
        // Frames past the limit are refused by the WebSocket layer before they are buffered;
        // the connection turns that into close code 4413.
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            let id = upgraded.next_connection.fetch_add(1, Ordering::Relaxed);
            upgraded.open_connections.fetch_add(1, Ordering::Relaxed);
            let ctx = &upgraded.connections;
            let task = connection::serve(socket, id, document, ctx);
            upgraded.tasks.track_future(task).await;
            upgraded.open_connections.fetch_sub(1, Ordering::Relaxed);
        }))
}
