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
use std::io::Write;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use concord_protocol::Role;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
        let keys = if config.public_keys.is_empty() {
            Keys::Local(DecodingKey::from_secret(&local_secret(data_dir)?))
        } else {
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

/// The prefix of the server's own mission names (`concord:server`).
const RESERVED_PREFIX: &str = "concord:";

/// Whether a mission name reads as one of the server's: `concord:` in any case, also behind
/// whitespace, control or invisible characters (zero-width, bidi overrides, BOM) anywhere,
/// and spelled with fullwidth forms, colon look-alikes or the Cyrillic and Greek letters that
/// pass for c, o and d. Not a full confusables check (Unicode TR 39): it covers the
/// disguises that need no effort.
pub fn is_reserved_mission(mission: &str) -> bool {
    let skeleton = mission
        .chars()
        .filter(|&c| !(c.is_whitespace() || c.is_control() || is_invisible(c)))
        .map(look_alike)
        .flat_map(char::to_lowercase);
    let mut prefix = RESERVED_PREFIX.chars();
    // Compare only as far as the prefix: the rest of the name is never folded or copied.
    skeleton.zip(prefix.by_ref()).all(|(c, p)| c == p) && prefix.next().is_none()
}

/// Characters that render as nothing (format characters a name could hide behind).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
    )
}

/// The ASCII character `c` passes for, if it is a common disguise of one in `concord:`.
fn look_alike(c: char) -> char {
    match c {
        // Fullwidth ASCII (U+FF01..U+FF5E) is ASCII shifted by 0xFEE0.
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{0441}' | '\u{0421}' | '\u{03f2}' | '\u{03f9}' | '\u{217d}' | '\u{216d}' => 'c',
        '\u{043e}' | '\u{041e}' | '\u{03bf}' | '\u{039f}' | '\u{0585}' => 'o',
        '\u{0501}' | '\u{217e}' | '\u{216e}' => 'd',
        '\u{0578}' => 'n',
        '\u{0433}' => 'r',
        '\u{2236}' | '\u{a789}' | '\u{fe13}' | '\u{fe55}' | '\u{02d0}' | '\u{02f8}'
        | '\u{0589}' | '\u{05c3}' | '\u{0703}' | '\u{0704}' | '\u{16ec}' | '\u{205a}' => ':',
        _ => c,
    }
}

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
    let secret = local_secret(data_dir)?;
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
        &EncodingKey::from_secret(&secret),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("concord-auth-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    fn request(role: Role) -> TokenRequest {
        TokenRequest {
            person: "ana".into(),
            mission: "MEX".into(),
            role,
            docs: DocAccess::parse("gcm, rio"),
            ttl_seconds: 3600,
            audience: DEFAULT_AUDIENCE.into(),
        }
    }

    #[test]
    fn a_local_token_verifies_until_it_expires() {
        let dir = temp_dir();
        let auth = Authenticator::new(&AuthConfig::default(), &dir).expect("auth");
        let now = 1_800_000_000;
        let token = issue_local_token(&dir, &request(Role::Delegation), now).expect("token");
        let who = auth.verify(&token, now).expect("valid");
        assert_eq!((who.person.as_str(), who.mission.as_str()), ("ana", "MEX"));
        assert_eq!(who.role, Role::Delegation);
        assert!(who.may_open("rio").is_ok());
        assert_eq!(who.may_open("other"), Err(AuthError::DocumentNotAllowed));
        assert_eq!(
            auth.verify(&token, now + 3599).map(|w| w.person),
            Ok("ana".into())
        );
        assert_eq!(auth.verify(&token, now + 3600), Err(AuthError::Expired));
        assert_eq!(auth.verify(&token, now - 60), Err(AuthError::NotYetValid));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_secret_is_private_and_stable() {
        let dir = temp_dir();
        let first = local_secret(&dir).expect("secret");
        assert_eq!(local_secret(&dir).expect("again"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(SECRET_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let debug = format!(
            "{:?}",
            Authenticator::new(&AuthConfig::default(), &dir).expect("auth")
        );
        assert!(!debug.contains("Local"), "{debug}");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn tampered_and_garbage_tokens_are_refused() {
        let dir = temp_dir();
        let auth = Authenticator::new(&AuthConfig::default(), &dir).expect("auth");
        let now = 1_800_000_000;
        let token = issue_local_token(&dir, &request(Role::Observer), now).expect("token");
        // Flip the signature's first character (its last one may carry only padding bits).
        let signature_at = token.rfind('.').expect("three parts") + 1;
        let mut tampered = token.clone();
        let flipped = if token[signature_at..].starts_with('A') {
            "B"
        } else {
            "A"
        };
        tampered.replace_range(signature_at..signature_at + 1, flipped);
        assert_eq!(auth.verify(&tampered, now), Err(AuthError::BadSignature));
        assert_eq!(auth.verify("not a jwt", now), Err(AuthError::Malformed));
        assert_eq!(auth.verify("", now), Err(AuthError::Malformed));
        std::fs::remove_dir_all(dir).ok();
    }

    /// Signs arbitrary claims with the local secret of `dir`.
    fn sign(dir: &Path, claims: serde_json::Value) -> String {
        let secret = local_secret(dir).expect("secret");
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&secret),
        )
        .expect("signs")
    }

    fn claims_with(now: u64, aud: serde_json::Value, mission: &str) -> serde_json::Value {
        serde_json::json!({
            "sub": "ana", "mission": mission, "role": "delegation", "docs": ["gcm"],
            "exp": now + 60, "iat": now, "aud": aud, "jti": "j1",
        })
    }

    #[test]
    fn an_audience_list_is_accepted_when_it_names_ours() {
        let dir = temp_dir();
        let auth = Authenticator::new(&AuthConfig::default(), &dir).expect("auth");
        let now = 1_800_000_000;
        let verify =
            |aud: serde_json::Value| auth.verify(&sign(&dir, claims_with(now, aud, "MEX")), now);
        let who = verify(serde_json::json!(["another-app", "concord"])).expect("ours is listed");
        assert_eq!(who.mission, "MEX");
        verify(serde_json::json!(["concord"])).expect("alone in a list");
        verify(serde_json::json!("concord")).expect("a single string");
        for wrong in [
            serde_json::json!(["another-app", "concord-staging"]),
            serde_json::json!([]),
            serde_json::json!("another-app"),
            serde_json::json!(["Concord"]),
        ] {
            assert_eq!(
                verify(wrong.clone()).map(|w| w.mission),
                Err(AuthError::WrongAudience),
                "{wrong}"
            );
        }
        for malformed in [
            serde_json::json!([1, 2]),
            serde_json::json!({"aud": "concord"}),
        ] {
            assert!(verify(malformed.clone()).is_err(), "{malformed}");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn reserved_missions_are_refused_whatever_their_case_or_disguise() {
        let dir = temp_dir();
        let auth = Authenticator::new(&AuthConfig::default(), &dir).expect("auth");
        let now = 1_800_000_000;
        let verify = |mission: &str| {
            auth.verify(
                &sign(&dir, claims_with(now, "concord".into(), mission)),
                now,
            )
            .map(|w| w.mission)
        };
        for reserved in [
            "concord:server",
            "Concord:server",
            "CONCORD:SERVER",
            " concord:server",
            "\tconcord:server",
            "concord :server",
            "\u{200b}concord:server",
            "\u{feff}Concord:server",
            "\u{202e}concord:server",
            "ｃｏｎｃｏｒｄ：server",
            "concord\u{ff1a}server",
            "c\u{043e}nc\u{043e}rd:server",
            "\u{0421}oncord:server",
        ] {
            assert_eq!(
                verify(reserved),
                Err(AuthError::ReservedMission),
                "{reserved:?}"
            );
        }
        for allowed in ["MEX", "Concordia", "concord", "concord-EU", "EU:concord"] {
            assert_eq!(verify(allowed), Ok(allowed.to_string()));
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn key_specs_parse() {
        let spec = PublicKeySpec::parse("k1=EdDSA:/tmp/k.pem").expect("parses");
        assert_eq!(spec.kid, "k1");
        assert_eq!(spec.algorithm, Algorithm::EdDSA);
        assert!(PublicKeySpec::parse("k1=HS256:/tmp/k.pem").is_err());
        assert!(PublicKeySpec::parse("k1").is_err());
    }
}
