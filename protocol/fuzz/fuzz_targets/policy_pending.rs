//! Arbitrary bytes as a sequence of updates against the adversarial world: mostly they steer
//! the structure-aware generator of `tests/adversarial/world.rs` (which category, which client,
//! which origins, ...), now and then they are an update themselves. The invariants are the
//! test's: nothing refused reaches the replica; nothing accepted stays pending; the policy's
//! index, a fresh index, the log and the replica agree; no text changes that its writer may not
//! write.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/adversarial/world.rs"]
mod world;

fuzz_target!(|data: &[u8]| world::fuzz_one(data));
