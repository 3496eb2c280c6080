//! Token verification, time passed in.

use super::*;
use jsonwebtoken::{EncodingKey, Header};

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
