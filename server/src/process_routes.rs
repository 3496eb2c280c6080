//! The process in the read API: `GET /api/docs/{doc}/process` (rounds and their programme,
//! readings and the pointer, silence procedures, the notices addressed to the caller) and
//! `GET /api/docs/{doc}/readings/{reading}`: what a reading covered, when, and what was
//! proposed during it, optionally under one heading or on one paragraph ("what was proposed
//! on objective 12 in the second reading").
//!
//! Facilitators see every notice and who read it; a delegation sees those addressed to it (or
//! to all) and whether it read them; observers, those addressed to all.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use concord_protocol::process::{read_paragraphs, ProcessState};
use concord_protocol::schema;
use concord_protocol::Role;
use serde::Deserialize;
use yrs::Transact;

use crate::auth::Identity;
use crate::http::{read_document as read, ApiError, AppState, DocumentAccess, DocumentRequest};

/// The process as this caller may see it.
fn for_caller(process: ProcessState, identity: &Identity) -> ProcessState {
    match identity.role {
        Role::Facilitator => process,
        Role::Delegation => process.notices_for(Some(&identity.mission)),
        Role::Observer => {
            let mut process = process.notices_for(Some(""));
            process.notices.retain(|n| n.to.is_empty());
            process
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/process",
    tag = "process",
    summary = "Rounds and their programme, readings and the pointer, silence procedures, the notices addressed to the caller",
    params(("doc" = String, Path, description = "The document id")),
    responses(
        (status = 200, description = "The process: `rounds`, `readings`, `silences`, `notices`", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn process(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
) -> Result<Response, ApiError> {
    let (read_back, replica) = read(&state, &identity, &doc).await?;
    let process = read_back
        .process
        .unwrap_or_else(|| ProcessState::read(&replica.transact()));
    Ok(Json(for_caller(process, &identity)).into_response())
}

#[derive(Deserialize)]
pub struct ReadingFilter {
    /// A paragraph with what sits under it (a heading's section, an objective's actions).
    under: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/readings/{reading}",
    tag = "process",
    summary = "A reading: its range and pointer, the paragraphs read and when, and the amendments proposed during it",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("reading" = String, Path, description = "The reading id (`reading2`)"),
        ("under" = Option<String>, Query, description = "Only proposals on this paragraph, or under this heading")
    ),
    responses(
        (status = 200, description = "`reading`, `read` (paragraph ids in the order reached), `proposals` (amendments)", content_type = "application/json"),
        (status = 404, description = "No such reading (`unknown-reading`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn reading(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    Path((_, id)): Path<(String, String)>,
    query: Result<Query<ReadingFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let (read_back, replica) = read(&state, &identity, &doc).await?;
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-reading",
            format!("no reading {id}"),
        )
    };
    if read_back.published_only {
        // The proposals are live amendments, which such observers do not read.
        let process = read_back.process.unwrap_or_default();
        let reading = process
            .readings
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(unknown)?;
        return Ok(Json(serde_json::json!({ "reading": reading })).into_response());
    }
    let txn = replica.transact();
    let reading = ProcessState::read(&txn)
        .readings
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(unknown)?;
    let paragraphs = schema::paragraphs(&txn);
    let under = filter
        .under
        .as_deref()
        .map(|head| concord_protocol::process::under(&paragraphs, head));
    let under = |paragraph: &str| {
        under
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == paragraph))
    };
    let proposals: Vec<schema::Amendment> = schema::amendments(&txn)
        .into_iter()
        .filter(|a| a.reading.as_deref() == Some(id.as_str()) && under(&a.paragraph))
        .collect();
    let read = read_paragraphs(&txn, &reading);
    Ok(Json(serde_json::json!({
        "reading": reading,
        "read": read,
        "proposals": proposals,
    }))
    .into_response())
}
