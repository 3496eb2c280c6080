//! Which server a scenario talks to: the URL template, the token, the server's process (for
//! its CPU and memory), where the report goes, and whether writers type into Concord's
//! paragraph bodies or a plain root text.

use std::net::SocketAddr;

use anyhow::Context;

pub use crate::framing::Framing;

#[derive(Debug, clap::Args, Clone)]
pub struct Target {
    /// URL template; `{doc}` becomes the document name, e.g.
    /// `ws://127.0.0.1:8080/ws/{doc}?token=...` or `ws://127.0.0.1:1234/{doc}`. Several,
    /// comma-separated, spread the clients of a run over several nodes (client i uses the
    /// i-th, round robin); everything else uses the first.
    #[arg(long)]
    pub url: String,
    /// A token appended as `token=` (when the URL does not carry one).
    #[arg(long)]
    pub token: Option<String>,
    /// The server's process id, for CPU time and memory from /proc (several, comma-separated:
    /// the nodes of a cluster, whose CPU is added up and reported per node).
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// A label for the report (scenario and server).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
    /// Prefix of document names.
    #[arg(long, default_value = "bench")]
    pub doc_prefix: String,
    /// Where writers type: `concord` (paragraph bodies, created by command) or `root` (a root
    /// text `text`, for servers without Concord's schema and policy).
    #[arg(long, value_enum, default_value_t = Schema::Concord)]
    pub schema: Schema,
    /// How the server frames messages: `y-websocket`, or `hocuspocus` (the document's name
    /// before every message, an authentication first).
    #[arg(long, value_enum, default_value_t = Framing::YWebsocket)]
    pub framing: Framing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Schema {
    Concord,
    Root,
}

/// Where to connect for a document: (address, path and query).
pub fn endpoint(target: &Target, doc: &str) -> anyhow::Result<(SocketAddr, String)> {
    endpoint_of(target, doc, 0)
}

/// As [`endpoint`], for the `client`-th client of a run (round robin over the URLs).
pub fn endpoint_of(
    target: &Target,
    doc: &str,
    client: usize,
) -> anyhow::Result<(SocketAddr, String)> {
    let urls: Vec<&str> = target.url.split(',').collect();
    let url = urls[client % urls.len()].replace("{doc}", doc);
    let rest = url
        .strip_prefix("ws://")
        .context("only ws:// URLs are supported")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host.parse().context("the URL host must be IP:port")?;
    let mut path = if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    };
    if let Some(token) = &target.token {
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str("token=");
        path.push_str(token);
    }
    Ok((addr, path))
}

pub fn doc_name(target: &Target, index: usize) -> String {
    format!("{}-{index}", target.doc_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let target = Target {
            url: "ws://127.0.0.1:9/ws/{doc}".into(),
            token: Some("t".into()),
            server_pid: Vec::new(),
            label: String::new(),
            json: None,
            doc_prefix: "b".into(),
            schema: Schema::Concord,
            framing: Framing::YWebsocket,
        };
        let (addr, path) = endpoint(&target, "b-1").expect("parses");
        assert_eq!(addr.port(), 9);
        assert_eq!(path, "/ws/b-1?token=t");
    }
}
