//! Hashing for the maps keyed by ids the server hands out itself
//! (connections, SockJS sessions and receivers, group members, a host's
//! wake-ups): an xor and one wide multiply per word, where the
//! standard SipHash is made to resist keys that an attacker chooses. No
//! key here is the client's to choose; a SockJS session's own id, which
//! is, is looked up in `sockjs-proto` with the standard hasher.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// An odd multiplier with its bits spread (the fractional part of the
/// golden ratio).
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// A hasher for small integer keys (see the module's text).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    /// Folds the 128-bit product: every bit of the word reaches both the
    /// high and the low bits of the state.
    fn add(&mut self, word: u64) {
        let product = u128::from(self.0 ^ word) * u128::from(SEED);
        #[allow(clippy::cast_possible_truncation)] // the two halves, on purpose
        let (low, high) = (product as u64, (product >> 64) as u64);
        self.0 = low ^ high;
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// A map keyed by the server's own ids.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
/// A set of the server's own ids.
pub(crate) type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash(value: impl Hash) -> u64 {
        BuildHasherDefault::<IdHasher>::default().hash_one(value)
    }

    #[test]
    fn sequential_ids_spread_over_the_low_bits_a_table_indexes_by() {
        // 4,096 buckets, as a table of that many ids would have: the ids
        // a server hands out in order fill most of them, as random
        // hashes would (1 - 1/e of them, about 63 %).
        let buckets: HashSet<u64> = (0..4096u64).map(|id| hash(id) & 4095).collect();
        assert!(buckets.len() > 2500, "{} of 4096 buckets", buckets.len());
        // Slab keys: a slot and a generation.
        let buckets: HashSet<u64> = (0..4096u32).map(|slot| hash((slot, 1u32)) & 4095).collect();
        assert!(buckets.len() > 2500, "{} of 4096 buckets", buckets.len());
    }

    #[test]
    fn bytes_and_words_of_a_key_count_every_byte() {
        assert_ne!(hash([1u8, 2, 3]), hash([1u8, 2, 4]));
        assert_ne!(hash(&b"abcdefghi"[..]), hash(&b"abcdefghj"[..]));
        assert_eq!(hash(7u64), hash(7u64));
        let map: IdMap<u64, &str> = [(1, "a"), (2, "b")].into_iter().collect();
        assert_eq!(map.get(&2), Some(&"b"));
    }
}
