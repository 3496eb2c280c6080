//! The web page's files (`GET /` and the rest): served from the configured directory, with no
//! token (the page signs in with one). Only plain file names with known types are served.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, AppState};

/// The web page's files, from the configured directory. Only plain file names with known
/// types are served; nothing outside the directory can be named.
pub async fn web_file(
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let path = uri.path();
    let relative = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
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
    let file = state.ctx.config.web_dir.join(relative);
    // The wasm build is also kept gzipped (scripts/build-web.sh): a quarter of the bytes.
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let read = tokio::task::spawn_blocking(move || {
        if gzip_ok {
            let mut gz = file.clone().into_os_string();
            gz.push(".gz");
            if let Ok(bytes) = std::fs::read(&gz) {
                return Ok((bytes, true));
            }
        }
        std::fs::read(file).map(|bytes| (bytes, false))
    })
    .await;
    match read {
        Ok(Ok((bytes, gzipped))) => {
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
