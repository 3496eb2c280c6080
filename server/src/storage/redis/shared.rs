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

/// Takes one of `mission`'s connections for `node`, unless the mission holds `limit` across
/// every live node (the counts of nodes that died without giving theirs back are dropped).
pub async fn claim_connection(
    conn: &mut MultiplexedConnection,
    mission: &str,
    node: &str,
    limit: usize,
) -> Result<bool, StorageError> {
    let claim = Script::new(
        r"local total = 0
          local counts = redis.call('HGETALL', KEYS[1])
          for i = 1, #counts, 2 do
            if redis.call('EXISTS', ARGV[3] .. counts[i]) == 1 then
              total = total + tonumber(counts[i + 1])
            else
              redis.call('HDEL', KEYS[1], counts[i])
            end
          end
          if total >= tonumber(ARGV[2]) then return 0 end
          redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
          return 1",
    );
    let taken: u64 = claim
        .key(keys::connections(mission))
        .arg(node)
        .arg(limit)
        .arg(keys::node(""))
        .invoke_async(conn)
        .await
        .map_err(unreachable)?;
    Ok(taken == 1)
}

/// Gives back a connection [`claim_connection`] took.
pub async fn release_connection(
    conn: &mut MultiplexedConnection,
    mission: &str,
    node: &str,
) -> Result<(), StorageError> {
    let release = Script::new(
        r"if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') > 0 then
            redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
          end
          return 1",
    );
    let _: u64 = release
        .key(keys::connections(mission))
        .arg(node)
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
