//! The revision routes (answers built by [`crate::revisions`]):
//!
//! - `GET /api/docs/{doc}/revisions`: every published revision, in order, and what observers
//!   read.
//! - `GET /api/docs/{doc}/revisions/{rev}`: one revision as stored, byte for byte (`latest`
//!   names the newest).
//! - `GET /api/docs/{doc}/draft`: the next revision as it would be published now.
//! - `GET /api/docs/{doc}/compare?from={rev|live}&to={rev|live}`: paragraph by paragraph,
//!   word diffs with who wrote each insertion.
//! - `GET /api/docs/{doc}/amendments/{a}/redline`: an amendment against the body it amends.
//!
//! An observer who reads published revisions only gets the published ones and nothing live
//! (`403 published-only`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::http::{ask_room, unavailable, ApiError, AppState, DocumentAccess, DocumentRequest};
use crate::revisions::{self, CompareError, Side};
use crate::room::{DocumentRead, RoomRequest};

/// The document as `who` may read it, and a scratch replica of it.
async fn read(
    state: &AppState,
    access: &DocumentAccess,
) -> Result<(DocumentRead, yrs::Doc), ApiError> {
    let who = Arc::new(access.identity.clone());
    let read = ask_room(state, &access.doc, |reply| RoomRequest::Read {
        who: Arc::clone(&who),
        reply,
    })
    .await?
    .map_err(|_| unavailable())?;
    let state = read.state.clone();
    let doc = tokio::task::spawn_blocking(move || revisions::replica(&state))
        .await
        .ok()
        .flatten()
        .ok_or_else(unavailable)?;
    Ok((read, doc))
}

/// Runs CPU-heavy work on the blocking pool, not on the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| unavailable())
}

fn published_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "published-only",
        "observers of this document read published revisions only",
    )
}

fn unknown_revision(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown-revision",
        format!("no published revision {id}"),
    )
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
) -> Result<Response, ApiError> {
    let (_, doc) = read(&state, &access).await?;
    // Every revision is parsed (JSON of up to megabytes each): off the async workers.
    let list = blocking(move || revisions::list(&doc)).await?;
    Ok(Json(list).into_response())
}

pub async fn one(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
    Path((_, revision)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, doc) = read(&state, &access).await?;
    let id = revision.clone();
    let json = blocking(move || revisions::stored(&doc, &id))
        .await?
        .ok_or_else(|| unknown_revision(&revision))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

pub async fn draft(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
) -> Result<Response, ApiError> {
    let (read, doc) = read(&state, &access).await?;
    if read.published_only {
        return Err(published_only());
    }
    let draft = tokio::task::spawn_blocking(move || revisions::draft(&doc))
        .await
        .map_err(|_| unavailable())?;
    Ok(Json(draft).into_response())
}

#[derive(Deserialize)]
pub struct CompareQuery {
    from: String,
    #[serde(default = "live")]
    to: String,
}

fn live() -> String {
    "live".into()
}

pub async fn compare(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let (from, to) = (Side::parse(&query.from), Side::parse(&query.to));
    let (read, doc) = read(&state, &access).await?;
    if read.published_only && (from == Side::Live || to == Side::Live) {
        return Err(published_only());
    }
    let owners = read.owners;
    let answer =
        tokio::task::spawn_blocking(move || revisions::compare_sides(&doc, &owners, &from, &to))
            .await
            .map_err(|_| unavailable())?;
    match answer {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(CompareError::UnknownRevision(id)) => Err(unknown_revision(&id)),
    }
}

pub async fn redline(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
    Path((_, amendment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (read, doc) = read(&state, &access).await?;
    if read.published_only {
        return Err(published_only());
    }
    // Three word diffs of texts a sponsor may have made megabytes long: off the async
    // workers, or a few requests at once stall every other document's connections.
    let id = amendment.clone();
    match blocking(move || revisions::redline(&doc, &id)).await? {
        Some(redline) => Ok(Json(redline).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-amendment",
            format!("no amendment {amendment}"),
        )),
    }
}
