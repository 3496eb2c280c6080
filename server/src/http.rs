//! HTTP routes, described by OpenAPI ([`crate::openapi`], `/api/openapi.json`). Every route but
//! `/healthz`, `/api/openapi.json` and the page's files authenticates; refusals are JSON bodies
//! `{ "error": code, "message": ... }` with a stable code, and happen before any upgrade.
//!
//! - `GET /ws/{doc}`: upgrade to the document's WebSocket.
//! - `GET /api/session`: who the token says you are.
//! - `GET /api/docs/{doc}/state`: the document's full Yjs state (one v1 update).
//! - `POST /api/docs/{doc}/commands`: a command (JSON), answered with its outcome.
//! - `GET /api/docs/{doc}/paragraphs/{id}/attribution?since=MS`: who wrote each run of a
//!   paragraph's text, and who deleted what since `since` (Unix ms, default 0).
//! - the read API (`/api/docs`, a document's model, a paragraph, amendments, the audit): see
//!   [`crate::read_routes`].
//! - the revision routes (`revisions`, `draft`, `compare`, an amendment's `redline`): see
//!   [`crate::revision_routes`].
//! - `GET /healthz`: liveness and counts, for load balancers (no token).
//! - `GET /` and its files: the web page (no token: it signs in with one).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::upgrade::SocketUpgrade;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use utoipa::OpenApi as _;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{AuthError, Identity};
use crate::connection::{self, ConnectionContext};
use crate::room::{CommandReplyTo, RoomRequest};
use crate::{process_routes, read_routes, revision_routes};

/// Initial read buffer of a WebSocket connection.
const READ_BUFFER: usize = 1024;

pub struct AppState {
    pub ctx: ConnectionContext,
    pub open_connections: AtomicUsize,
    pub next_connection: AtomicU64,
    pub tasks: tokio_util::task::TaskTracker,
}

/// Every route but the page's files, each from the annotated handler that serves it, with
/// the OpenAPI description they make ([`crate::openapi`]).
pub fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(upgrade))
        .routes(routes!(session))
        .routes(routes!(openapi_json))
        .routes(routes!(read_routes::documents))
        .routes(routes!(read_routes::model))
        .routes(routes!(read_routes::paragraph))
        .routes(routes!(read_routes::amendments))
        .routes(routes!(read_routes::audit))
        .routes(routes!(read_routes::progress))
        .routes(routes!(process_routes::process))
        .routes(routes!(process_routes::reading))
        .routes(routes!(document_state))
        .routes(routes!(document_command))
        .routes(routes!(paragraph_attribution))
        .routes(routes!(revision_routes::list))
        .routes(routes!(revision_routes::one))
        .routes(routes!(revision_routes::draft))
        .routes(routes!(revision_routes::compare))
        .routes(routes!(revision_routes::export))
        .routes(routes!(revision_routes::redline))
}

pub fn router(state: Arc<AppState>) -> Router {
    let (routes, _) = api_routes().split_for_parts();
    routes
        .fallback(get(crate::web::web_file))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::forward::requests,
        ))
        .with_state(state)
}

/// The OpenAPI description of every route (no token needed to read it).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "server",
    summary = "This API's OpenAPI 3.1 description",
    security(()),
    responses((status = 200, description = "The description", content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let json = JSON.get_or_init(crate::openapi::json).clone();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
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

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        ApiError::new(err.status(), err.code(), err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
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
            "invalid-document-id",
            "document ids are 1-128 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
        ))
    }
}

/// A request whose token verified and is not revoked.
pub struct Authenticated(pub Identity);

impl FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(AuthError::Missing)?;
        let identity = state
            .ctx
            .auth
            .verify(&token, state.ctx.config.clock.now_seconds())?;
        if state.ctx.revocations.is_revoked(&identity) {
            return Err(AuthError::Revoked.into());
        }
        Ok(Authenticated(identity))
    }
}

/// A request for a document (`{doc}` in the route) that the request's token may open: the one
/// place that decides it, for every document route.
pub struct DocumentAccess {
    pub identity: Identity,
    pub doc: String,
}

impl FromRequestParts<Arc<AppState>> for DocumentAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(identity) = Authenticated::from_request_parts(parts, state).await?;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", e.body_text())
                })?;
        let doc = params.get("doc").cloned().unwrap_or_default();
        validate_document_id(&doc)?;
        identity.may_open(&doc)?;
        Ok(DocumentAccess { identity, doc })
    }
}

/// A REST request for a document: [`DocumentAccess`], within its mission's message rate.
pub struct DocumentRequest(pub DocumentAccess);

impl FromRequestParts<Arc<AppState>> for DocumentRequest {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let access = DocumentAccess::from_request_parts(parts, state).await?;
        if !state.ctx.limits.allow_message(&access.identity.mission) {
            return Err(rate_limited(&access.identity.mission));
        }
        Ok(DocumentRequest(access))
    }
}

/// The subprotocol a client asks for to speak Concord's protocol, beyond y-websocket's.
pub const CONCORD_SUBPROTOCOL: &str = "concord.v1";
/// A browser cannot set headers on a WebSocket: it offers its token as a subprotocol named
/// with this prefix (never selected, never echoed), so the token stays out of the URL, which
/// proxies and browsers log.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "concord.token.";

/// The token from `Authorization: Bearer`, else from a `concord.token.` subprotocol, else from
/// the `token` query parameter (stock Yjs clients).
fn bearer_token(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    let offered = parts
        .headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            p.trim()
                .strip_prefix(TOKEN_SUBPROTOCOL_PREFIX)
                .map(String::from)
        });
    if offered.is_some() {
        return offered;
    }
    let query = parts.uri.query()?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "token")
        .map(|(_, value)| percent_decode(value))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rate_limited(mission: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!("mission {mission} is sending too fast; slow down"),
    )
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "server",
    summary = "Liveness and counts, for load balancers (no token)",
    security(()),
    responses(
        (status = 200, description = "Liveness and counts, for load balancers (no token)", content_type = "application/json")
    )
)]
async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "documents_loaded": state.ctx.rooms.loaded(),
        "connections": state.open_connections.load(Ordering::Relaxed),
    }))
}

/// Ready to take work: not shutting down, and storage commits (a barrier through the log's
/// writer answers within a second). Distinct from `/healthz`, which only says the process
/// lives.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "server",
    summary = "Ready to take work: not shutting down, and storage commits (no token)",
    security(()),
    responses(
        (status = 200, description = "Ready", content_type = "application/json"),
        (status = 503, description = "Not ready: shutting down, or storage does not commit", content_type = "application/json")
    )
)]
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let not_ready = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not-ready", "reason": why })),
        )
            .into_response()
    };
    if state.ctx.shutdown.is_cancelled() {
        return not_ready("shutting down");
    }
    let (done, committed) = tokio::sync::oneshot::channel();
    state.ctx.rooms.log().barrier(Box::new(move |result| {
        let _ = done.send(result.is_ok());
    }));
    match tokio::time::timeout(std::time::Duration::from_secs(1), committed).await {
        Ok(Ok(true)) => Json(json!({ "status": "ready" })).into_response(),
        Ok(_) => not_ready("storage refuses writes"),
        Err(_) => not_ready("storage does not commit within a second"),
    }
}

/// The Prometheus text format ([`crate::metrics`]); no token, and nothing in it names a
/// mission or a document.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "server",
    summary = "Counters, gauges and histograms in the Prometheus text format (no token)",
    security(()),
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"))
)]
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let text = state.ctx.metrics.encode(
        state.open_connections.load(Ordering::Relaxed),
        state.ctx.rooms.loaded(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    doc: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/session",
    tag = "server",
    summary = "Who the token says you are; with `doc`, also whether it may open that document",
    params(
        ("doc" = Option<String>, Query, description = "A document the token should open (403 `document-not-allowed` if not)")
    ),
    responses(
        (status = 200, description = "Who the token says you are", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
async fn session(
    State(state): State<Arc<AppState>>,
    Authenticated(identity): Authenticated,
    query: Result<axum::extract::Query<SessionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.ctx.limits.allow_message(&identity.mission) {
        return Err(rate_limited(&identity.mission));
    }
    // The page asks before opening its socket, so that a link for another document is said
    // to be one, rather than failing as an upgrade the browser reports only as closed.
    let axum::extract::Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    if let Some(doc) = query.doc.as_deref() {
        identity.may_open(doc)?;
    }
    Ok(Json(json!({
        "person": identity.person,
        "mission": identity.mission,
        "role": identity.role,
        "docs": identity.docs,
        "expires_at": identity.expires_at,
    })))
}

/// The document's full state; for an observer who reads published revisions only, the
/// published view's.
#[utoipa::path(
    get,
    path = "/api/docs/{doc}/state",
    tag = "documents",
    summary = "The document's full Yjs state, one v1 update (the published view for observers of published text)",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    responses(
        (status = 200, description = "The document's full Yjs state, one v1 update (the published view for observers of published text)", content_type = "application/octet-stream"),
        crate::openapi::DocumentRefusals
    )
)]
async fn document_state(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
) -> Result<Response, ApiError> {
    let who = Arc::new(identity);
    let read = ask_room(&state, &doc, |reply| RoomRequest::Read {
        who: Arc::clone(&who),
        reply,
    })
    .await?
    .map_err(|_| unavailable())?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        read.state,
    )
        .into_response())
}

/// The document as `identity` may read it (the published view for an observer of published
/// text), and a scratch replica of it: what the read, revision and export routes answer from.
pub(crate) async fn read_document(
    state: &AppState,
    identity: &Identity,
    doc: &str,
) -> Result<(crate::room::DocumentRead, yrs::Doc), ApiError> {
    let who = Arc::new(identity.clone());
    let read = ask_room(state, doc, |reply| RoomRequest::Read {
        who: Arc::clone(&who),
        reply,
    })
    .await?
    .map_err(|_| unavailable())?;
    let bytes = read.state.clone();
    let replica = tokio::task::spawn_blocking(move || crate::revisions::replica(&bytes))
        .await
        .ok()
        .flatten()
        .ok_or_else(unavailable)?;
    Ok((read, replica))
}

/// The audit records of `doc` accepted at or after `since_ms`, including everything the room
/// issued before the read that preceded this call (a storage barrier first).
pub(crate) async fn audit_since(
    state: &AppState,
    doc: &str,
    since_ms: u64,
) -> Result<Vec<crate::audit::AuditRecord>, ApiError> {
    let log = Arc::clone(state.ctx.rooms.log());
    let (flushed, done) = tokio::sync::oneshot::channel();
    log.barrier(Box::new(move |result| {
        let _ = flushed.send(result);
    }));
    let storage_failed =
        |e: String| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage-failed", e);
    done.await
        .map_err(|e| storage_failed(e.to_string()))?
        .map_err(|e| storage_failed(e.to_string()))?;
    log.audit(doc, since_ms)
        .await
        .map_err(|e| storage_failed(e.to_string()))
}

/// An observer asked for live text of a document whose observers read published revisions
/// only.
pub(crate) fn published_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "published-only",
        "observers of this document read published revisions only",
    )
}

pub(crate) fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "document-unavailable",
        "the document could not be loaded; try again",
    )
}

/// Asks the document's room (loading it if needed) and waits for its answer. A room that
/// retires meanwhile drops the reply; it is looked up again and its successor answers.
pub(crate) async fn ask_room<R>(
    state: &AppState,
    doc: &str,
    request: impl Fn(tokio::sync::oneshot::Sender<R>) -> RoomRequest,
) -> Result<R, ApiError> {
    for _ in 0..8 {
        let room = state.ctx.rooms.get(doc);
        let (reply, answer) = tokio::sync::oneshot::channel();
        if room.send(request(reply)).await.is_err() {
            continue;
        }
        if let Ok(answer) = answer.await {
            return Ok(answer);
        }
    }
    Err(unavailable())
}

#[derive(serde::Deserialize)]
struct AttributionQuery {
    #[serde(default)]
    since: u64,
}

/// `GET /api/docs/{doc}/paragraphs/{id}/attribution`: the body's runs with the mission that
/// wrote each (client-id ownership), and the text deleted since `since` with who deleted it
/// (the audit).
#[utoipa::path(
    get,
    path = "/api/docs/{doc}/paragraphs/{paragraph}/attribution",
    tag = "documents",
    summary = "Who wrote each run of a paragraph's body, and who deleted what since `since`",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("paragraph" = String, Path, description = "The paragraph id"),
        ("since" = Option<u64>, Query, description = "Unix ms; deletions at or after it")
    ),
    responses(
        (status = 200, description = "Who wrote each run of a paragraph's body, and who deleted what since `since`", content_type = "application/json"),
        (status = 404, description = "No such paragraph (`unknown-paragraph`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
async fn paragraph_attribution(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    Path((_, paragraph)): Path<(String, String)>,
    query: Result<axum::extract::Query<AttributionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let since = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?
        .since;
    let who = Arc::new(identity);
    let read = ask_room(&state, &doc, |reply| RoomRequest::Read {
        who: Arc::clone(&who),
        reply,
    })
    .await?
    .map_err(|_| unavailable())?;
    if read.published_only {
        return Err(published_only());
    }
    let (full, owners) = (read.state, read.owners);
    let records = audit_since(&state, &doc, since).await?;
    let answer = tokio::task::spawn_blocking(move || {
        crate::attribution::paragraph(&full, &owners, &records, &paragraph, since)
    })
    .await
    .map_err(|_| unavailable())?;
    match answer {
        Some(answer) => Ok(Json(answer).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-paragraph",
            "the document has no such paragraph",
        )),
    }
}

/// `POST /api/docs/{doc}/commands` with a JSON command: 200 with the outcome, or the
/// command's refusal as `{ "error": code, "message" }` with its status (403, 404, 409, 413,
/// 400).
#[utoipa::path(
    post,
    path = "/api/docs/{doc}/commands",
    tag = "documents",
    summary = "Runs a command (JSON tagged by `type`); answered once its effect is durable",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    request_body(content = String, content_type = "application/json", description = "A command, e.g. {\"type\":\"lock\",\"paragraph\":\"p1\",\"reason\":\"agreed ad ref\"}. Text: add-paragraph, move-paragraph, split-paragraph, relabel-paragraph, delete-paragraph, set-status (with `pending` missions for agreed-pending), lock, unlock, import-text. Amendments: create-amendment, invite-sponsor, remove-sponsor, support, oppose, withdraw, accept, reject, comment. Revisions: prepare-revision, note-change, set-theme, publish-revision, set-observers. Process: create-round {name, starts_on, ends_on, place, programme: [{date, items: [{kind: theme|reading|general-comments|other, title, theme?, paragraphs?, time?}]}]}, set-programme {round, programme}, set-current-item {round, day?, item?}, start-reading {name, round?, from?, to?}, move-pointer {reading, paragraph}, end-reading {reading}, start-silence {revision? | paragraphs, seconds? (72 h when absent)}, break-silence {silence, statement} (delegations), publish-notice {subject, body, to? (missions; all when empty), attachments? ([{kind: revision, revision} | {kind: export, format, revision?}]), round?, revision?}, read-notice {notice}. conclude-silence is the server's own."),
    responses(
        (status = 200, description = "Runs a command (JSON tagged by `type`); answered once its effect is durable", content_type = "application/json"),
        (status = 403, description = "The wrong role or mission (`forbidden-role`, `not-the-author`, `not-addressed`, ...)", body = crate::openapi::ErrorBody),
        (status = 404, description = "Unknown paragraph, amendment, theme, revision, round, reading, silence procedure or notice", body = crate::openapi::ErrorBody),
        (status = 409, description = "Locked, closed, deleted, taken, moved on, a reading under way, under silence, silence over or broken already", body = crate::openapi::ErrorBody),
        (status = 413, description = "A text over its limit (`too-long`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
async fn document_command(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let command: concord_protocol::command::Command =
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                concord_protocol::command::INVALID_COMMAND,
                e.to_string(),
            )
        })?;
    let command = Box::new(command);
    let who = Arc::new(identity);
    let answer = ask_room(&state, &doc, |reply| RoomRequest::Command {
        who: Arc::clone(&who),
        command: command.clone(),
        reply: CommandReplyTo::Caller(reply),
    })
    .await?;
    match answer {
        Ok(outcome) => Ok(Json(outcome).into_response()),
        Err(refused) => {
            let status =
                StatusCode::from_u16(refused.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            Ok((
                status,
                Json(json!({ "error": refused.code, "message": refused.message })),
            )
                .into_response())
        }
    }
}

#[utoipa::path(
    get,
    path = "/ws/{doc}",
    tag = "documents",
    summary = "Upgrades to the document's WebSocket (y-websocket protocol and Concord's messages)",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    responses(
        (status = 101, description = "Switching protocols"),
        crate::openapi::DocumentRefusals
    )
)]
async fn upgrade(
    State(state): State<Arc<AppState>>,
    DocumentAccess { identity, doc }: DocumentAccess,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    ws: SocketUpgrade,
) -> Result<Response, ApiError> {
    if state.ctx.shutdown.is_cancelled() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "the server is shutting down",
        ));
    }
    let all_taken = || {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-connections",
            format!("mission {} holds all of its connections", identity.mission),
        )
    };
    let permit = state
        .ctx
        .limits
        .connect(&identity.mission)
        .ok_or_else(all_taken)?;
    let limit = state.ctx.config.max_frame_bytes;
    // With several nodes, a document another node owns is served there, through this one;
    // the node that serves a connection counts it against its mission, across every node.
    let (upstream, slot) = match &state.ctx.cluster {
        Some(cluster) => {
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            match crate::forward::open_upstream(cluster, &doc, path, &headers).await? {
                Some(upstream) => (Some(upstream), None),
                None => {
                    let most = state.ctx.config.limits.connections_per_mission;
                    let slot = cluster
                        .connection_slot(&identity.mission, most)
                        .await
                        .map_err(|e| {
                            ApiError::new(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "storage-unavailable",
                                format!("cannot count the mission's connections: {e}"),
                            )
                        })?
                        .ok_or_else(all_taken)?;
                    (None, Some(slot))
                }
            }
        }
        None => (None, None),
    };
    let document: Arc<str> = doc.into();
    let upgraded = Arc::clone(&state);
    let limits = connection::ReadLimits {
        max_frame_bytes: limit,
        read_buffer: READ_BUFFER,
    };
    let ws = match ws {
        SocketUpgrade::Direct(ws) => {
            // Concord's clients ask for its protocol; the answer names it, and only then does
            // the connection get Concord's own messages.
            let ws = ws.protocols(&[CONCORD_SUBPROTOCOL]);
            let concord = ws.selected_protocol().is_some();
            let (response, socket) = ws.accept();
            tokio::spawn(async move {
                if let Some((tcp, read_ahead)) = socket.await {
                    let transport = connection::Transport::Direct { tcp, read_ahead };
                    let served = ServedHere {
                        document,
                        identity,
                        permit,
                        concord,
                    };
                    served.serve(&upgraded, transport, limits).await;
                }
            });
            return Ok(response);
        }
        SocketUpgrade::Axum(ws) => ws,
    };
    let ws = ws.protocols([CONCORD_SUBPROTOCOL]);
    let concord = ws.selected_protocol().is_some();
    Ok(ws
        // Frames past the limit are refused by the WebSocket layer before they are buffered;
        // the connection turns that into close code 4413.
        .max_message_size(limit)
        .max_frame_size(limit)
        // tungstenite reserves 128 KiB per connection for reading by default; thousands of
        // observers send almost nothing, so start small (the buffer grows for large frames).
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            if let Some(upstream) = upstream {
                drop(permit);
                upgraded.ctx.metrics.forwarded("socket");
                let config = &upgraded.ctx.config;
                let settings = crate::forward::PipeSettings {
                    ping_interval: config.ping_interval,
                    liveness_timeout: config.liveness_timeout,
                    write_timeout: config.write_timeout,
                    shutdown: upgraded.ctx.shutdown.clone(),
                };
                upgraded
                    .tasks
                    // Boxed: inline, the pipe's state would size every connection's task.
                    .track_future(Box::pin(crate::forward::pipe(socket, upstream, settings)))
                    .await;
                return;
            }
            // Held for as long as the connection is served here.
            let _slot = slot;
            let served = ServedHere {
                document,
                identity,
                permit,
                concord,
            };
            served
                .serve(
                    &upgraded,
                    connection::Transport::Axum(Box::new(socket)),
                    limits,
                )
                .await;
        }))
}

/// A connection served on this node, once upgraded.
struct ServedHere {
    document: Arc<str>,
    identity: crate::auth::Identity,
    permit: crate::limits::ConnectionPermit,
    concord: bool,
}

impl ServedHere {
    async fn serve(
        self,
        state: &Arc<AppState>,
        transport: connection::Transport,
        limits: connection::ReadLimits,
    ) {
        let id = state.next_connection.fetch_add(1, Ordering::Relaxed);
        state.open_connections.fetch_add(1, Ordering::Relaxed);
        let task = connection::serve(
            transport,
            limits,
            id,
            self.document,
            self.identity,
            self.permit,
            self.concord,
            &state.ctx,
        );
        state.tasks.track_future(task).await;
        state.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}
