//! Tokens this server issues itself: the local secret in the data directory, `concord token`.

use std::io::Write;
use std::path::Path;

use concord_protocol::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::{Claims, DocAccess, KeyError, SECRET_FILE};

/// What `concord token` asks for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub person: String,
    pub mission: String,
    pub role: Role,
    pub docs: DocAccess,
    pub ttl_seconds: u64,
    pub audience: String,
}

/// Signs a token with the local secret of `data_dir` (creating the secret if needed).
pub fn issue_local_token(
    data_dir: &Path,
    request: &TokenRequest,
    now: u64,
) -> Result<String, KeyError> {
    issue_token(&local_secret(data_dir)?, request, now)
}

/// Signs a token with `secret` (with Redis: the secret every node shares).
pub fn issue_token(secret: &[u8], request: &TokenRequest, now: u64) -> Result<String, KeyError> {
    let claims = Claims {
        sub: request.person.clone(),
        mission: request.mission.clone(),
        role: request.role.as_str().to_string(),
        docs: request.docs.clone(),
        exp: now.saturating_add(request.ttl_seconds),
        iat: now,
        aud: request.audience.as_str().into(),
        jti: random_id()?,
        iss: None,
        nbf: None,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| KeyError::Signing(e.to_string()))
}

/// A random 128-bit identifier, hex-encoded (token ids).
pub fn random_id() -> Result<String, KeyError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| KeyError::Signing(format!("no randomness available: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The local HS256 secret: 32 random bytes in `data_dir/jwt-secret`, mode 0600, created on
/// first use. Its content is never logged.
pub fn local_secret(data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    let path = data_dir.join(SECRET_FILE);
    let fail = |e: std::io::Error| KeyError::Secret(data_dir.to_path_buf(), e);
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => return Ok(secret),
        Ok(_) => {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the secret file is shorter than 32 bytes",
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(fail)?;
    let mut secret = vec![0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| fail(std::io::Error::other(e.to_string())))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(&secret).map_err(fail)?;
            file.sync_all().map_err(fail)?;
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(&path).map_err(fail)
        }
        Err(e) => Err(fail(e)),
    }
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
