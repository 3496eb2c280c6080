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
//! - `GET /api/docs/{doc}/export?format=...&revision=...[&against=R0]`: a file
//!   ([`crate::export`]); `against` with `docx` makes a redline with tracked changes.
//!
//! An observer who reads published revisions only gets the published ones and nothing live
//! (`403 published-only`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::http::{
    audit_since, published_only, read_document, unavailable, ApiError, AppState, DocumentAccess,
    DocumentRequest,
};
use crate::revisions::{self, CompareError, Deleters, Side};
use crate::room::DocumentRead;

/// The document as `access` may read it, and a scratch replica of it.
async fn read(
    state: &AppState,
    access: &DocumentAccess,
) -> Result<(DocumentRead, yrs::Doc), ApiError> {
    read_document(state, &access.identity, &access.doc).await
}

/// Runs CPU-heavy work on the blocking pool, not on the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| unavailable())
}

fn unknown_revision(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown-revision",
        format!("no published revision {id}"),
    )
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/revisions",
    tag = "revisions",
    summary = "Every published revision, in order, and what observers read",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    responses(
        (status = 200, description = "Every published revision, in order, and what observers read", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
) -> Result<Response, ApiError> {
    let (_, doc) = read(&state, &access).await?;
    // Every revision is parsed (JSON of up to megabytes each): off the async workers.
    let list = blocking(move || revisions::list(&doc)).await?;
    Ok(Json(list).into_response())
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/revisions/{rev}",
    tag = "revisions",
    summary = "One revision as stored, byte for byte",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("rev" = String, Path, description = "A revision id (`r1`), or `latest`")
    ),
    responses(
        (status = 200, description = "One revision as stored, byte for byte", content_type = "application/json"),
        (status = 404, description = "No such revision (`unknown-revision`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/draft",
    tag = "revisions",
    summary = "The next revision as it would be published now: change notes, cover letter, themes",
    params(
        ("doc" = String, Path, description = "The document id")
    ),
    responses(
        (status = 200, description = "The next revision as it would be published now: change notes, cover letter, themes", content_type = "application/json"),
        crate::openapi::DocumentRefusals
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/compare",
    tag = "revisions",
    summary = "Two texts paragraph by paragraph: word diffs, and who wrote each insertion",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("from" = String, Query, description = "A revision id, or `live`"),
        ("to" = Option<String>, Query, description = "A revision id, or `live` (the default)")
    ),
    responses(
        (status = 200, description = "Two texts paragraph by paragraph: word diffs, and who wrote each insertion", content_type = "application/json"),
        (status = 404, description = "No such revision (`unknown-revision`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
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
    let since = revisions::deletions_since(&doc, &from);
    let deleters = Deleters::new(
        &audit_since(&state, &access.doc, since).await?,
        &concord_protocol::schema::amendments(&yrs::Transact::transact(&doc)),
    );
    let answer = tokio::task::spawn_blocking(move || {
        revisions::compare_sides_with(&doc, &owners, &deleters, &from, &to)
    })
    .await
    .map_err(|_| unavailable())?;
    match answer {
        Ok(answer) => Ok(Json(answer).into_response()),
        Err(CompareError::UnknownRevision(id)) => Err(unknown_revision(&id)),
    }
}

#[utoipa::path(
    get,
    path = "/api/docs/{doc}/amendments/{amendment}/redline",
    tag = "revisions",
    summary = "An amendment against the body it amends, three-way when the body moved on",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("amendment" = String, Path, description = "The amendment id")
    ),
    responses(
        (status = 200, description = "An amendment against the body it amends, three-way when the body moved on", content_type = "application/json"),
        (status = 404, description = "No such amendment (`unknown-amendment`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
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

#[derive(Deserialize)]
pub struct ExportQuery {
    format: String,
    /// A published revision (`r1`, `latest`); the live text when absent.
    revision: Option<String>,
    /// With `format=docx`: the revision (or `live`) the redline is against.
    against: Option<String>,
}

/// `GET /api/docs/{doc}/export?format=md|clean|clean-txt|compilation|akn&revision=R`: the file,
/// with its type and a file name.
#[utoipa::path(
    get,
    path = "/api/docs/{doc}/export",
    tag = "exports",
    summary = "A file: md, clean, clean-txt, compilation (HTML), compilation-docx, akn (Akoma Ntoso 3.0) or docx",
    params(
        ("doc" = String, Path, description = "The document id"),
        ("format" = String, Query, description = "md, clean, clean-txt, compilation, compilation-docx, akn or docx"),
        ("revision" = Option<String>, Query, description = "A published revision (`r1`, `latest`); the live text when absent"),
        ("against" = Option<String>, Query, description = "With docx: a redline against this revision, or `live`")
    ),
    responses(
        (status = 200, description = "A file: md, clean, clean-txt, compilation (HTML), akn (Akoma Ntoso 3.0) or docx", content_type = "application/octet-stream"),
        (status = 404, description = "No such revision (`unknown-revision`)", body = crate::openapi::ErrorBody),
        crate::openapi::DocumentRefusals
    )
)]
pub async fn export(
    State(state): State<Arc<AppState>>,
    DocumentRequest(access): DocumentRequest,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    use crate::export::{export, ExportError, Format, Source};
    let Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let format = Format::parse(&query.format)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "unknown-format", e.to_string()))?;
    let revision = query.revision.filter(|r| r != "live");
    if query.against.is_some() && format != Format::Docx {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "`against` makes a redline, which is exported as docx",
        ));
    }
    let (read, doc) = read(&state, &access).await?;
    let against = query.against;
    if read.published_only && (revision.is_none() || against.as_deref() == Some("live")) {
        return Err(published_only());
    }
    let now_ms = state.ctx.config.clock.now_ms();
    let name = access.doc.clone();
    let owners = read.owners;
    let deleters = match &against {
        Some(from) => Deleters::new(
            &audit_since(
                &state,
                &access.doc,
                revisions::deletions_since(&doc, &Side::parse(from)),
            )
            .await?,
            &concord_protocol::schema::amendments(&yrs::Transact::transact(&doc)),
        ),
        None => Deleters::default(),
    };
    let exported = tokio::task::spawn_blocking(move || {
        let source = Source::read(&doc, &name, revision.as_deref(), now_ms)?;
        let Some(against) = against else {
            return Ok(export(&source, format));
        };
        let to = revision.map_or(Side::Live, Side::Revision);
        let comparison =
            revisions::compare_sides_with(&doc, &owners, &deleters, &Side::parse(&against), &to)
                .map_err(|CompareError::UnknownRevision(id)| ExportError::UnknownRevision(id))?;
        let deleted_by = source
            .history
            .iter()
            .find(|r| source.revision.as_ref().is_some_and(|s| s.id == r.id))
            .map_or_else(
                || "Facilitators".to_string(),
                |r| r.published_by.mission.clone(),
            );
        Ok(crate::export::redline(&source, &comparison, &deleted_by))
    })
    .await
    .map_err(|_| unavailable())?;
    match exported {
        Ok(file) => Ok((
            [
                (header::CONTENT_TYPE, file.content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", file.file_name),
                ),
            ],
            file.bytes,
        )
            .into_response()),
        Err(ExportError::UnknownRevision(id)) => Err(unknown_revision(&id)),
        Err(e @ ExportError::UnknownFormat(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown-format",
            e.to_string(),
        )),
    }
}
