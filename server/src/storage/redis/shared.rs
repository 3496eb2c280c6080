//! What every node shares besides the documents: the secret local tokens are signed with, and
//! the revocations (`concord revoke --redis`, read by every node several times a second).

use std::collections::HashMap;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Script};

use super::{keys, unreachable};
use crate::storage::StorageError;

/// The signing secret, made by the first node or command that needs it (`SET NX`).
pub async fn secret(conn: &mut MultiplexedConnection) -> Result<Vec<u8>, StorageError> {
    let mut fresh = vec![0u8; 32];
    getrandom::fill(&mut fresh).map_err(|e| StorageError::Backend(e.to_string()))?;
    let _: bool = conn
        .set_nx(keys::SECRET, fresh.as_slice())
        .await
        .map_err(unreachable)?;
    let secret: Vec<u8> = conn.get(keys::SECRET).await.map_err(unreachable)?;
    if secret.len() < 32 {
        return Err(StorageError::Backend(
            "the shared secret in redis is shorter than 32 bytes".into(),
        ));
    }
    Ok(secret)
}

/// Records a revocation of `kind` (`token`, `mission`) at `at` (seconds); a later time wins.
pub async fn revoke(
    conn: &mut MultiplexedConnection,
    kind: &str,
    value: &str,
    at: u64,
) -> Result<(), StorageError> {
    let later = Script::new(
        r"local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
          if tonumber(ARGV[2]) > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
          return 1",
    );
    let _: u64 = later
        .key(keys::REVOCATIONS)
        .arg(format!("{kind}:{value}"))
        .arg(at)
        .invoke_async(conn)
        .await
        .map_err(unreachable)?;
    Ok(())
}

/// Every revocation: (kind, value, time).
pub async fn revocations(
    conn: &mut MultiplexedConnection,
) -> Result<Vec<(String, String, u64)>, StorageError> {
    let all: HashMap<String, u64> = conn.hgetall(keys::REVOCATIONS).await.map_err(unreachable)?;
    Ok(all
        .into_iter()
        .filter_map(|(field, at)| {
            let (kind, value) = field.split_once(':')?;
            Some((kind.to_string(), value.to_string(), at))
        })
        .collect())
}
