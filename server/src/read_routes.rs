//! The read API integrators build on (JSON; the same tokens, document access and errors as
//! every route):
//!
//! - `GET /api/docs`: the documents this token may open, each with its title, current
//!   revision and paragraphs by status;
//! - `GET /api/docs/{doc}`: the model: paragraphs in reading order, amendments, comments;
//! - `GET /api/docs/{doc}/paragraphs/{id}`: one paragraph with its amendments and comments;
//! - `GET /api/docs/{doc}/amendments?status=open&mission=EU&reading=&under=&theme=`:
//!   amendments, filtered by status, a sponsoring mission, the reading they were proposed
//!   during, a paragraph or heading, a theme (`GET /api/docs/{doc}?theme=` filters the model);
//! - `GET /api/docs/{doc}/progress`: paragraphs by status overall, per section and per theme,
//!   bracketed ones, amendments by status, the trend ([`concord_protocol::progress`]);
//! - `GET /api/docs/{doc}/audit?since=&mission=&paragraph=&limit=&cursor=`: the audit trail,
//!   oldest first, a page at a time (`next_cursor` names the next page; pages are stable, as
//!   records are only ever appended).
//!
//! An observer who reads published revisions only reads the published view, and not the audit.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use concord_protocol::schema::{self, Amendment, AmendmentStatus, Comment, Paragraph};
use serde::{Deserialize, Serialize};
use yrs::{Doc, Transact};

use crate::audit::AuditRecord;
use crate::http::{
    read_document as read, validate_document_id, ApiError, AppState, Authenticated, DocumentAccess,
    DocumentRequest,
};
use crate::revisions;
use crate::storage::AuditQuery;

/// One document in the list.
#[derive(Debug, Serialize)]
pub struct DocumentSummary {
    pub id: String,
    pub title: String,
    /// The latest published revision's name, if any.
    pub revision: Option<String>,
    /// Paragraphs (headings left out) by status.
    pub paragraphs: BTreeMap<&'static str, usize>,
    pub open_amendments: usize,
}

fn summary(id: &str, doc: &Doc) -> DocumentSummary {
    let txn = doc.transact();
    let paragraphs = schema::paragraphs(&txn);
    let mut counts = BTreeMap::new();
    for p in paragraphs
        .iter()
        .filter(|p| p.kind != schema::ParagraphKind::Heading)
    {
        *counts.entry(p.status.as_str()).or_insert(0) += 1;
    }
    let title = paragraphs
        .iter()
        .take(2)
        .all(|p| p.kind == schema::ParagraphKind::Heading)
        .then(|| paragraphs.first().map(|p| p.body.clone()))
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| id.to_string());
    DocumentSummary {
        id: id.to_string(),
        title,
        revision: schema::revisions(&txn).pop().map(|r| r.name),
        paragraphs: counts,
        open_amendments: schema::amendments(&txn)
            .iter()
            .filter(|a| a.status == AmendmentStatus::Open)
            .count(),
    }
}

#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "documents",
    summary = "The documents this token may open: title, current revision, paragraphs by status",
    responses(
        (status = 200, description = "The documents this token may open: title, current revision, paragraphs by status", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn documents(
    State(state): State<Arc<AppState>>,
    Authenticated(identity): Authenticated,
) -> Result<Response, ApiError> {
    if !state.ctx.limits.allow_message(&identity.mission) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!(
                "mission {} is sending too fast; slow down",
                identity.mission
            ),
        ));
    }
    let stored = state.ctx.rooms.log().documents().await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage-failed",
            e.to_string(),
        )
    })?;
    let mut out = Vec::new();
    for id in stored {
        if validate_document_id(&id).is_err() || identity.may_open(&id).is_err() {
            continue;
        }
        let (_, doc) = read(&state, &identity, &id).await?;
        out.push(summary(&id, &doc));
    }
    Ok(Json(serde_json::json!({ "documents": out })).into_response())
}

#[derive(Debug, Serialize)]
pub struct Model {
    pub id: String,
    pub title: String,
    pub observers: schema::ObserverView,
    pub revisions: Vec<concord_protocol::revision::RevisionSummary>,
    pub paragraphs: Vec<Paragraph>,
    pub amendments: Vec<Amendment>,
    /// Comment threads by paragraph id (paragraphs without comments left out).
    pub comments: BTreeMap<String, Vec<Comment>>,
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}",
    tag = "documents",
    summary = "The document's model: paragraphs in reading order, amendments, comments",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("theme" = Option<String>, Query, description = "Only paragraphs tagged with this theme")
    ),
    responses(
        (status = 200, description = "The document's model: paragraphs in reading order, amendments, comments", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn model(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    query: Result<Query<ThemeFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let (_, replica) = read(&state, &identity, &doc).await?;
    let title = summary(&doc, &replica).title;
    let list = revisions::list(&replica);
    let txn = replica.transact();
    let theme = theme_named(&txn, filter.theme.as_deref())?;
    let mut paragraphs = schema::paragraphs(&txn);
    if let Some(theme) = &theme {
        paragraphs.retain(|p| tagged(theme, p));
    }
    let comments = paragraphs
        .iter()
        .map(|p| (p.id.clone(), schema::comments(&txn, &p.id)))
        .filter(|(_, thread)| !thread.is_empty())
        .collect();
    Ok(Json(Model {
        id: doc,
        title,
        observers: list.observers,
        revisions: list.revisions,
        amendments: schema::amendments(&txn)
            .into_iter()
            .filter(|a| theme.is_none() || paragraphs.iter().any(|p| p.id == a.paragraph))
            .collect(),
        paragraphs,
        comments,
    })
    .into_response())
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/paragraphs/{paragraph}",
    tag = "documents",
    summary = "One paragraph with its amendments and comments",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("paragraph" = String, Path, description = "The paragraph id")
    ),
    responses(
        (status = 200, description = "One paragraph with its amendments and comments", content_type = "application/json"),
        (status = 404, description = "No such paragraph (`unknown-paragraph`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn paragraph(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, replica) = read(&state, &identity, &doc).await?;
    let txn = replica.transact();
    let paragraph = schema::paragraph(&txn, &id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-paragraph",
            format!("no paragraph {id}"),
        )
    })?;
    let amendments: Vec<Amendment> = schema::amendments(&txn)
        .into_iter()
        .filter(|a| a.paragraph == id)
        .collect();
    Ok(Json(serde_json::json!({
        "paragraph": paragraph,
        "amendments": amendments,
        "comments": schema::comments(&txn, &id),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct AmendmentFilter {
    status: Option<String>,
    mission: Option<String>,
    /// Only amendments proposed during this reading.
    reading: Option<String>,
    /// Only amendments on this paragraph or what sits under it (a heading's section, an
    /// objective's actions).
    under: Option<String>,
    /// Only amendments on paragraphs tagged with this theme.
    theme: Option<String>,
}

#[derive(Deserialize)]
pub struct ThemeFilter {
    /// Only paragraphs tagged with this theme (a heading tagged brings its section).
    theme: Option<String>,
}

/// Whether a paragraph is tagged with a theme: listed itself, or its heading is.
fn tagged(theme: &concord_protocol::revision::Theme, paragraph: &Paragraph) -> bool {
    theme
        .paragraphs
        .iter()
        .any(|t| *t == paragraph.id || paragraph.parent.as_deref() == Some(t.as_str()))
}

fn theme_named(
    txn: &impl yrs::ReadTxn,
    id: Option<&str>,
) -> Result<Option<concord_protocol::revision::Theme>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    schema::themes(txn)
        .into_iter()
        .find(|t| t.id == id)
        .map(Some)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown-theme",
                format!("no theme {id}"),
            )
        })
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/amendments",
    tag = "documents",
    summary = "Amendments, by status and sponsoring mission",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("status" = Option<String>, Query, description = "open, accepted, rejected or withdrawn"),
        ("mission" = Option<String>, Query, description = "A sponsoring mission"),
        ("reading" = Option<String>, Query, description = "Proposed during this reading"),
        ("under" = Option<String>, Query, description = "On this paragraph, or under this heading"),
        ("theme" = Option<String>, Query, description = "On paragraphs tagged with this theme")
    ),
    responses(
        (status = 200, description = "Amendments, by status and sponsoring mission", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn amendments(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    query: Result<Query<AmendmentFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let status = match filter.status.as_deref() {
        None => None,
        Some(text) => Some(AmendmentStatus::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                format!("no amendment status {text}: use open, accepted, rejected or withdrawn"),
            )
        })?),
    };
    let (_, replica) = read(&state, &identity, &doc).await?;
    let txn = replica.transact();
    let theme = theme_named(&txn, filter.theme.as_deref())?;
    let paragraphs = schema::paragraphs(&txn);
    let on = |id: &str| paragraphs.iter().find(|p| p.id == id);
    let under = filter
        .under
        .as_deref()
        .map(|head| concord_protocol::process::under(&paragraphs, head));
    let amendments: Vec<Amendment> = schema::amendments(&txn)
        .into_iter()
        .filter(|a| status.is_none_or(|s| a.status == s))
        .filter(|a| {
            filter
                .reading
                .as_deref()
                .is_none_or(|r| a.reading.as_deref() == Some(r))
        })
        .filter(|a| under.as_ref().is_none_or(|ids| ids.contains(&a.paragraph)))
        .filter(|a| {
            theme
                .as_ref()
                .is_none_or(|t| on(&a.paragraph).is_some_and(|p| tagged(t, p)))
        })
        .filter(|a| {
            filter
                .mission
                .as_deref()
                .is_none_or(|m| a.is_sponsored_by(m))
        })
        .collect();
    Ok(Json(serde_json::json!({ "amendments": amendments })).into_response())
}

#[derive(Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    since: u64,
    mission: Option<String>,
    paragraph: Option<String>,
    limit: Option<usize>,
    /// The `next_cursor` of the page before.
    #[serde(default)]
    cursor: u64,
}

/// A page holds this many records unless asked for fewer.
const AUDIT_PAGE: usize = 100;
/// ... and never more than this.
const MAX_AUDIT_PAGE: usize = 1000;

#[derive(Debug, Serialize)]
struct NumberedRecord {
    n: u64,
    #[serde(flatten)]
    record: AuditRecord,
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/audit",
    tag = "documents",
    summary = "The audit trail, oldest first, a page at a time",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("since" = Option<u64>, Query, description = "Unix ms"),
        ("mission" = Option<String>, Query),
        ("paragraph" = Option<String>, Query),
        ("limit" = Option<usize>, Query, description = "At most 1000; 100 by default"),
        ("cursor" = Option<u64>, Query, description = "The `next_cursor` of the page before")
    ),
    responses(
        (status = 200, description = "The audit trail, oldest first, a page at a time", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
    query: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let (read, _) = read(&state, &identity, &doc).await?;
    if read.published_only {
        return Err(crate::http::published_only());
    }
    let limit = filter.limit.unwrap_or(AUDIT_PAGE).clamp(1, MAX_AUDIT_PAGE);
    let query = AuditQuery {
        since_ms: filter.since,
        after: filter.cursor,
        mission: filter.mission,
        paragraph: filter.paragraph,
        // One more than the page, to know whether another follows.
        limit: limit + 1,
    };
    let mut records = state
        .ctx
        .rooms
        .log()
        .audit_page(&doc, &query)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage-failed",
                e.to_string(),
            )
        })?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next_cursor = more.then(|| records.last().map(|(n, _)| *n)).flatten();
    let records: Vec<NumberedRecord> = records
        .into_iter()
        .map(|(n, record)| NumberedRecord { n, record })
        .collect();
    Ok(Json(serde_json::json!({ "records": records, "next_cursor": next_cursor })).into_response())
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/progress",
    tag = "documents",
    summary = "How far the negotiation has come: paragraphs by status overall, per section and per theme, bracketed ones, amendments by status",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    responses(
        (status = 200, description = "How far the negotiation has come", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn progress(
    State(state): State<Arc<AppState>>,
    DocumentRequest(DocumentAccess { identity, doc }): DocumentRequest,
) -> Result<Response, ApiError> {
    let (_, replica) = read(&state, &identity, &doc).await?;
    let progress = concord_protocol::progress::of(&yrs::Transact::transact(&replica));
    Ok(Json(progress).into_response())
}
