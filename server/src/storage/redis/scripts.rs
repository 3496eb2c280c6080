//! The Lua scripts Redis runs for Concord. Each runs atomically, so a check and the write it
//! guards are one step: no other client's command can come between them.
//!
//! Keys of one document share the hash tag `{doc}` (see `keys.rs`).

/// Takes the lease of a document: `SET NX PX`, or a lease this node already holds, and a new
/// fencing number (`INCR`), written into the lease's value ("fence node address").
/// KEYS: lease, fence. ARGV: node, address, lease milliseconds.
/// Returns `{fence, value}` when taken, `{0, value}` when another node holds it.
pub const ACQUIRE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local node = string.match(held, '^%d+ (%S+) ')
  if node ~= ARGV[1] then return {0, held} end
end
local fence = redis.call('INCR', KEYS[2])
local value = fence .. ' ' .. ARGV[1] .. ' ' .. ARGV[2]
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
return {fence, value}
";

/// Renews a lease this node holds. A lease that expired while nobody took it is taken back
/// only if the fencing number is still its own (nobody else has appended since).
/// KEYS: lease, fence. ARGV: value, fence, lease milliseconds. Returns 1 if still held.
pub const RENEW: &str = r"
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not held and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0
";

/// After a connection broke mid-pipeline: the stored head's record number, if the fence is
/// still the caller's (nobody else can have appended), else -1.
/// KEYS: fence, audit head. ARGV: fence.
pub const LANDED: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
";

/// Gives a lease up, if it is still this node's. KEYS: lease. ARGV: value.
pub const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
";

/// Appends one accepted update and its sealed audit record, if the fencing number is still
/// the caller's (a paused ex-owner's late append is refused here) and the record extends the
/// chain's stored head (never a gap or a fork). Client-id claims and the document's indexes
/// are written in the same step.
/// The count of the document's open silence procedures moves with each start and conclusion,
/// in the same step, so every node can tell which documents have a deadline to act on.
/// KEYS: log, audit, owners, fence, documents, action index, audit head, open silences.
/// ARGV: fence, document, update, n, at_ms, person, mission, action, paragraphs, deleted,
///       claims, update hash, previous hash, hash, then (client, mission) pairs.
/// Returns the log entry's id.
pub const APPEND: &str = r"
if redis.call('GET', KEYS[4]) ~= ARGV[1] then
  return redis.error_reply('FENCED this node no longer owns the document')
end
local head = tonumber(redis.call('HGET', KEYS[7], 'n') or '0')
if head + 1 ~= tonumber(ARGV[4]) then
  return redis.error_reply('CHAIN the audit record does not follow the stored head')
end
for i = 15, #ARGV, 2 do
  local owner = redis.call('HGET', KEYS[3], ARGV[i])
  if owner and owner ~= ARGV[i + 1] then
    return redis.error_reply('CLAIM client id ' .. ARGV[i] .. ' belongs to ' .. owner)
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'u', ARGV[3])
redis.call('XADD', KEYS[2], '*', 'n', ARGV[4], 'at', ARGV[5], 'person', ARGV[6],
  'mission', ARGV[7], 'action', ARGV[8], 'paragraphs', ARGV[9], 'deleted', ARGV[10],
  'claims', ARGV[11], 'uh', ARGV[12], 'prev', ARGV[13], 'hash', ARGV[14])
redis.call('HSET', KEYS[7], 'n', ARGV[4], 'hash', ARGV[14])
for i = 15, #ARGV, 2 do redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('SADD', KEYS[5], ARGV[2])
redis.call('SADD', KEYS[6], ARGV[2])
if ARGV[8] == 'start-silence' then
  redis.call('HINCRBY', KEYS[8], ARGV[2], 1)
elseif ARGV[8] == 'conclude-silence' then
  if redis.call('HINCRBY', KEYS[8], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[8], ARGV[2]) end
end
return id
";

/// Stores a snapshot covering every entry of the log so far, then trims the log behind it:
/// entries go only once a snapshot that contains them is stored. The state must contain
/// exactly the records up to the stored head (ARGV[3]): a state holding an update whose append
/// was refused, or missing one appended since, is refused.
/// KEYS: log, snapshot, fence, audit head. ARGV: fence, state, the record number it covers.
/// Returns the last entry id it covers.
pub const SNAPSHOT: &str = r"
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return redis.error_reply('FENCED this node no longer owns the document')
end
if tonumber(redis.call('HGET', KEYS[4], 'n') or '0') ~= tonumber(ARGV[3]) then
  return redis.error_reply('CHAIN the snapshot does not cover exactly the stored records')
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local upto = redis.call('HGET', KEYS[2], 'upto') or '0-0'
if #last > 0 then upto = last[1][1] end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'upto', upto)
local ms, seq = string.match(upto, '^(%d+)-(%d+)$')
redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (tonumber(seq) + 1))
return upto
";

/// Sets a document's count of open silence procedures, as its owner found it on loading the
/// document, if the fence is still the caller's. Sent through the writer's pipeline, so it is
/// ordered with the owner's appends.
/// KEYS: fence, open silences. ARGV: fence, document, count.
pub const OPEN_SILENCES: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED this node no longer owns the document')
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
else
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return 0
";
