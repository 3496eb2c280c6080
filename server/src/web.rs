//! The web page's files (`GET /` and the rest), with no token (the page signs in with one):
//! the copy embedded in the binary when it was built (`client-wasm/web`, with the wasm build
//! `scripts/build-web.sh` made), so that an installed `concord` serves the page from anywhere;
//! or, with `--web-dir`, a directory read at each request (for working on the page). Only
//! plain file names with known types are served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, AppState};

/// The page as it was when the binary was built.
static EMBEDDED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../client-wasm/web");

/// Whether the page's wasm client is there to serve.
pub fn page_is_built(web_dir: Option<&Path>) -> bool {
    const CLIENT: &str = "pkg/concord_client_wasm.js";
    match web_dir {
        Some(dir) => dir.join(CLIENT).exists(),
        None => EMBEDDED.get_file(CLIENT).is_some(),
    }
}

/// A file's bytes, gzipped when asked for and kept so; `None` when there is no such file.
fn read(web_dir: Option<PathBuf>, relative: &str, gzip_ok: bool) -> Option<(Vec<u8>, bool)> {
    let gz = format!("{relative}.gz");
    match web_dir {
        Some(dir) => {
            if gzip_ok {
                if let Ok(bytes) = std::fs::read(dir.join(&gz)) {
                    return Some((bytes, true));
                }
            }
            std::fs::read(dir.join(relative)).ok().map(|b| (b, false))
        }
        None => {
            if gzip_ok {
                if let Some(file) = EMBEDDED.get_file(&gz) {
                    return Some((file.contents().to_vec(), true));
                }
            }
            EMBEDDED
                .get_file(relative)
                .map(|f| (f.contents().to_vec(), false))
        }
    }
}

/// The web page's files, from the configured directory. Only plain file names with known
/// types are served; nothing outside the directory can be named.
pub async fn web_file(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let path = uri.path();
    let relative = match path {
        "/" => "index.html",
        // Browsers and tools ask for it unprompted: the page's icon, not a 404.
        "/favicon.ico" => "favicon.svg",
        _ => path.trim_start_matches('/'),
    };
    let not_found = || {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such page or route").into_response()
    };
    let plain = relative
        .split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains('\\'));
    let content_type = match relative.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => return not_found(),
    };
    if !plain {
        return not_found();
    }
    // The wasm build is also kept gzipped (scripts/build-web.sh): a quarter of the bytes.
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let web_dir = state.ctx.config.web_dir.clone();
    let name = relative.to_string();
    let read = tokio::task::spawn_blocking(move || read(web_dir, &name, gzip_ok)).await;
    match read {
        Ok(Some((bytes, gzipped))) => {
            let mut response = (
                [
                    (header::CONTENT_TYPE, content_type),
                    // Small files, rebuilt in place: always revalidate.
                    (header::CACHE_CONTROL, "no-cache"),
                    (header::VARY, "accept-encoding"),
                ],
                bytes,
            )
                .into_response();
            if gzipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    axum::http::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        _ if relative == "index.html" || relative.starts_with("pkg/") => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><title>Concord</title><p>The web page is not built yet. \
             Run <code>bash scripts/run.sh</code> (or <code>scripts/build-web.sh</code>) \
             and reload.</p>",
        )
            .into_response(),
        _ => not_found(),
    }
}
