//! Who is asking: JWT verification for every entry point (docs/design.md sections 1 and 6).
//!
//! A token names a person (`sub`), the mission they act for, their role, the documents they may
//! open (`docs`: ids or `*`), and carries `exp`, `iat`, `aud` (one audience or a list naming
//! ours) and `jti`. By default tokens are HS256 with a secret generated into the data
//! directory; deployments whose identity provider issues tokens configure its public keys
//! instead (RS256, ES256 or EdDSA, chosen by `kid`, so several can be live while keys rotate).
//!
//! Time is passed in (`now`, seconds since the Unix epoch): expiry is testable without clocks.
//! Error messages say what was wrong with the token, never anything about the keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use concord_protocol::Role;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// The audience Concord expects unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "concord";
/// Tolerated clock skew for `iat`/`nbf` from an identity provider. Expiry is exact.
const SKEW_SECONDS: u64 = 5;
const SECRET_FILE: &str = "jwt-secret";

/// The claims of a Concord token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub mission: String,
    pub role: String,
    pub docs: DocAccess,
    pub exp: u64,
    pub iat: u64,
    pub aud: Audience,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// Who a token is for: one audience, or several (RFC 7519 section 4.1.3 allows both). A
/// token is accepted when the configured audience is among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Audience::One(audience.to_string())
    }
}

impl From<String> for Audience {
    fn from(audience: String) -> Self {
        Audience::One(audience)
    }
}

/// The documents a token opens: a list of ids, or every document (`"*"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocAccess {
    List(Vec<String>),
    One(String),
}

impl DocAccess {
    pub fn allows(&self, doc: &str) -> bool {
        match self {
            DocAccess::One(one) => one == "*" || one == doc,
            DocAccess::List(list) => list.iter().any(|d| d == "*" || d == doc),
        }
    }

    /// Parses the `--docs` argument of `concord token`: `*` or comma-separated ids.
    pub fn parse(text: &str) -> DocAccess {
        if text.trim() == "*" {
            return DocAccess::One("*".into());
        }
        DocAccess::List(
            text.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(String::from)
                .collect(),
        )
    }
}

/// A verified token: who is acting, for which mission, in which role, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub person: String,
    pub mission: String,
    pub role: Role,
    pub docs: DocAccess,
    pub expires_at: u64,
    pub issued_at: u64,
    pub token_id: String,
}

impl Identity {
    /// The server itself, acting on its own (a silence procedure's deadline, a mission that
    /// joined), under the mission only it may use.
    pub fn server(person: &str) -> Identity {
        Identity {
            person: person.into(),
            mission: concord_protocol::policy::SERVER_OWNER.into(),
            role: concord_protocol::Role::Facilitator,
            docs: DocAccess::One("*".into()),
            expires_at: u64::MAX,
            issued_at: 0,
            token_id: concord_protocol::policy::SERVER_OWNER.into(),
        }
    }

    pub fn may_open(&self, doc: &str) -> Result<(), AuthError> {
        if self.docs.allows(doc) {
            Ok(())
        } else {
            Err(AuthError::DocumentNotAllowed)
        }
    }
}

/// Why a request was not authenticated or not allowed. Each has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token: send `Authorization: Bearer <token>` or `?token=<token>`")]
    Missing,
    #[error("the token is not a well-formed JWT with Concord's claims")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token names a signing key this server does not know")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued for another audience")]
    WrongAudience,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token's role is not facilitator, delegation or observer")]
    UnknownRole,
    #[error("the token does not open this document")]
    DocumentNotAllowed,
    #[error("mission names reading as `concord:…` (in any case) are reserved for the server")]
    ReservedMission,
    #[error("the token has been revoked")]
    Revoked,
}

impl AuthError {
    pub fn code(self) -> &'static str {
        match self {
            AuthError::Missing => "missing-token",
            AuthError::Malformed => "malformed-token",
            AuthError::BadSignature => "bad-signature",
            AuthError::UnknownKey => "unknown-key",
            AuthError::Expired => "token-expired",
            AuthError::NotYetValid => "token-not-yet-valid",
            AuthError::WrongAudience => "wrong-audience",
            AuthError::WrongIssuer => "wrong-issuer",
            AuthError::UnknownRole => "unknown-role",
            AuthError::DocumentNotAllowed => "document-not-allowed",
            AuthError::ReservedMission => "reserved-mission",
            AuthError::Revoked => "token-revoked",
        }
    }

    /// 401 when the token does not establish who is asking; 403 when it does, but does not
    /// allow this.
    pub fn status(self) -> StatusCode {
        match self {
            AuthError::UnknownRole | AuthError::DocumentNotAllowed | AuthError::ReservedMission => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A public key of an identity provider.
#[derive(Debug, Clone)]
pub struct PublicKeySpec {
    pub kid: String,
    pub algorithm: Algorithm,
    pub pem_path: PathBuf,
}

impl PublicKeySpec {
    /// Parses `KID=ALG:PATH`, e.g. `2026a=RS256:/etc/concord/idp.pem`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let usage =
            || format!("`{text}`: expected KID=ALG:PATH with ALG one of RS256, ES256, EdDSA");
        let (kid, rest) = text.split_once('=').ok_or_else(usage)?;
        let (alg, path) = rest.split_once(':').ok_or_else(usage)?;
        let algorithm = match alg {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            _ => return Err(usage()),
        };
        if kid.is_empty() || path.is_empty() {
            return Err(usage());
        }
        Ok(PublicKeySpec {
            kid: kid.to_string(),
            algorithm,
            pem_path: PathBuf::from(path),
        })
    }
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Identity-provider keys. Empty: the local HS256 secret in the data directory.
    pub public_keys: Vec<PublicKeySpec>,
    pub audience: String,
    pub issuer: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public_keys: Vec::new(),
            audience: DEFAULT_AUDIENCE.to_string(),
            issuer: None,
        }
    }
}

enum Keys {
    Local(DecodingKey),
    Public(HashMap<String, (Algorithm, DecodingKey)>),
}

pub struct Authenticator {
    keys: Keys,
    audience: String,
    issuer: Option<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys.
        f.debug_struct("Authenticator")
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the token secret in {0}: {1}")]
    Secret(PathBuf, std::io::Error),
    #[error("cannot read public key {kid} from {path}: {reason}")]
    PublicKey {
        kid: String,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot sign the token: {0}")]
    Signing(String),
}

impl Authenticator {
    pub fn new(config: &AuthConfig, data_dir: &Path) -> Result<Self, KeyError> {
        if config.public_keys.is_empty() {
            return Ok(Self::with_secret(config, &local_secret(data_dir)?));
        }
        let keys = {
            let mut keys = HashMap::new();
            for spec in &config.public_keys {
                let key_error = |reason: String| KeyError::PublicKey {
                    kid: spec.kid.clone(),
                    path: spec.pem_path.clone(),
                    reason,
                };
                let pem = std::fs::read(&spec.pem_path).map_err(|e| key_error(e.to_string()))?;
                let key = match spec.algorithm {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(&pem),
                    _ => DecodingKey::from_ed_pem(&pem),
                }
                .map_err(|e| key_error(e.to_string()))?;
                keys.insert(spec.kid.clone(), (spec.algorithm, key));
            }
            Keys::Public(keys)
        };
        Ok(Authenticator {
            keys,
            audience: config.audience.clone(),
            issuer: config.issuer.clone(),
        })
    }

    /// Verifies local tokens signed with `secret` (the one every node shares, with Redis).
    pub fn with_secret(config: &AuthConfig, secret: &[u8]) -> Self {
        Authenticator {
            keys: Keys::Local(DecodingKey::from_secret(secret)),
            audience: config.audience.clone(),
            issuer: config.issuer.clone(),
        }
    }

    /// Verifies a token at time `now` (seconds since the Unix epoch).
    pub fn verify(&self, token: &str, now: u64) -> Result<Identity, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let (algorithm, key) = match &self.keys {
            Keys::Local(key) => (Algorithm::HS256, key),
            Keys::Public(keys) => {
                let entry = match &header.kid {
                    Some(kid) => keys.get(kid),
                    None if keys.len() == 1 => keys.values().next(),
                    None => None,
                };
                let (algorithm, key) = entry.ok_or(AuthError::UnknownKey)?;
                (*algorithm, key)
            }
        };
        // The key decides the algorithm, never the token (no `alg: none`, no HS256 signed
        // with a public key).
        if header.alg != algorithm {
            return Err(AuthError::BadSignature);
        }
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        validation.set_audience(&[&self.audience]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => AuthError::BadSignature,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::WrongIssuer,
            _ => AuthError::Malformed,
        })?;
        let claims = data.claims;
        // jsonwebtoken checked this already; checked here too so that accepting a token never
        // rests on a library's reading of a claim that may be a string or a list.
        if !claims.aud.contains(&self.audience) {
            return Err(AuthError::WrongAudience);
        }
        if now >= claims.exp {
            return Err(AuthError::Expired);
        }
        let not_before = claims.nbf.unwrap_or(claims.iat).max(claims.iat);
        if not_before > now + SKEW_SECONDS {
            return Err(AuthError::NotYetValid);
        }
        if claims.sub.is_empty() || claims.mission.is_empty() || claims.jti.is_empty() {
            return Err(AuthError::Malformed);
        }
        let role = Role::parse(&claims.role).ok_or(AuthError::UnknownRole)?;
        // The server writes under client ids owned by a reserved name; no token may act as it,
        // nor carry a name that reads as one of the server's in the audit.
        if is_reserved_mission(&claims.mission) {
            return Err(AuthError::ReservedMission);
        }
        Ok(Identity {
            person: claims.sub,
            mission: claims.mission,
            role,
            docs: claims.docs,
            expires_at: claims.exp,
            issued_at: claims.iat,
            token_id: claims.jti,
        })
    }
}

mod local;
mod reserved;
#[cfg(test)]
mod tests;

pub use local::{
    issue_local_token, issue_token, local_secret, now_seconds, random_id, TokenRequest,
};
pub use reserved::is_reserved_mission;
