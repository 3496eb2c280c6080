//! The OpenAPI 3.1 description of every REST route, generated from the handlers that serve
//! them (`utoipa`): the router is built from the same annotated handlers
//! ([`crate::http::router`] through `utoipa_axum`), so the description cannot leave a route
//! out. It is served at `/api/openapi.json` and committed as `docs/openapi.json`; a test fails
//! when the two drift apart (`CONCORD_WRITE_OPENAPI=1 cargo test -p concord-server openapi`
//! writes it again).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// Every refusal: `{ "error": code, "message": ... }`, the code stable and kebab-case.
#[derive(Debug, ToSchema)]
pub struct ErrorBody {
    /// The stable code (`token-expired`, `paragraph-locked`, `published-only`, ...).
    pub error: String,
    pub message: String,
}

/// The refusals every document route may answer.
#[derive(IntoResponses)]
pub enum DocumentRefusals {
    /// A bad request (`invalid-query`, `invalid-document-id`, ...).
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// No token, or not valid (`missing-token`, `token-expired`, `token-revoked`, ...).
    #[response(status = 401)]
    Unauthenticated(#[to_schema] ErrorBody),
    /// The token may not open this document (`document-not-allowed`), or an observer asked
    /// for live text of a document whose observers read published revisions only
    /// (`published-only`).
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorBody),
    /// The mission sends too fast (`rate-limited`).
    #[response(status = 429)]
    RateLimited(#[to_schema] ErrorBody),
    /// The document could not be loaded (`document-unavailable`).
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concord",
        description = "Co-drafting negotiated texts in real time. Every route but /healthz takes \
                       a token (JWT) in `Authorization: Bearer` or `?token=`.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "documents", description = "Documents, their model, commands and audit"),
        (name = "revisions", description = "Published revisions, comparisons, redlines"),
        (name = "exports", description = "Files delegations and secretariats use"),
        (name = "process", description = "Rounds, readings, silence procedures, notices"),
        (name = "server", description = "Health and who you are")
    )
)]
pub struct ApiDoc;

/// The description as served and committed.
pub fn json() -> String {
    let (_, api) = crate::http::api_routes().split_for_parts();
    let mut text = api.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// The committed description is what the handlers say; regenerate it with
    /// `CONCORD_WRITE_OPENAPI=1 cargo test -p concord-server openapi`.
    #[test]
    fn the_committed_openapi_is_what_the_handlers_serve() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        let generated = super::json();
        if std::env::var_os("CONCORD_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("writes docs/openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is not what the routes serve: run \
             CONCORD_WRITE_OPENAPI=1 cargo test -p concord-server openapi"
        );
        let api: serde_json::Value = serde_json::from_str(&generated).expect("JSON");
        assert_eq!(api["openapi"], "3.1.0");
        for route in [
            "/healthz",
            "/api/session",
            "/api/docs",
            "/api/docs/{doc}",
            "/api/docs/{doc}/commands",
            "/api/docs/{doc}/audit",
            "/api/docs/{doc}/compare",
            "/api/docs/{doc}/export",
            "/api/openapi.json",
        ] {
            assert!(api["paths"][route].is_object(), "{route} is described");
        }
    }
}
