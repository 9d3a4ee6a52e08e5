//! Decompressed public keys, by their 32-byte encoding. A batch check decompresses every
//! signature's key and its R; keys repeat (an organization's account signs many events), and at
//! saturation decompressing keys was about an eighth of a validator's CPU. R never repeats, so
//! it is not cached.
//!
//! Decompression is a pure function of the bytes, so a cached point is exactly what
//! decompressing again would give, and a failed decompression is never cached. Bounded: the
//! cache is emptied when full, so a flood of fresh keys costs the cache its hits and nothing
//! else.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};

/// Keys held at most (about 200 bytes each).
pub const KEY_CACHE_ENTRIES: usize = 8_192;

/// A bounded map from key encodings to their points.
pub struct KeyCache {
    capacity: usize,
    // SipHash (std's default): the keys are chosen by clients, and collisions must not be.
    points: Mutex<HashMap<[u8; 32], EdwardsPoint>>,
}

impl KeyCache {
    pub fn with_capacity(capacity: usize) -> Self {
        assert!(capacity > 0, "a key cache holds at least one key");
        KeyCache {
            capacity,
            points: Mutex::new(HashMap::new()),
        }
    }

    /// The process's cache, used by every signature check.
    pub fn global() -> &'static KeyCache {
        static CACHE: OnceLock<KeyCache> = OnceLock::new();
        CACHE.get_or_init(|| KeyCache::with_capacity(KEY_CACHE_ENTRIES))
    }

    /// `CompressedEdwardsY(bytes).decompress()`, from the cache when it holds the key.
    pub fn decompress(&self, bytes: &[u8; 32]) -> Option<EdwardsPoint> {
        // A panic elsewhere while the lock was held leaves a map of correct entries.
        if let Some(point) = self.lock().get(bytes) {
            return Some(*point);
        }
        let point = CompressedEdwardsY(*bytes).decompress()?;
        let mut points = self.lock();
        if points.len() >= self.capacity {
            points.clear();
        }
        points.insert(*bytes, point);
        debug_assert!(points.len() <= self.capacity);
        Some(point)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], EdwardsPoint>> {
        self.points.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    fn key_bytes(i: u8) -> [u8; 32] {
        KeyPair::from_secret([i; 32]).public().0
    }

    #[test]
    fn a_cached_point_is_the_decompressed_one_and_failures_are_not_kept() {
        let cache = KeyCache::with_capacity(4);
        for i in 1..=3 {
            let bytes = key_bytes(i);
            let direct = CompressedEdwardsY(bytes).decompress();
            assert!(direct.is_some());
            assert_eq!(cache.decompress(&bytes), direct);
            assert_eq!(cache.decompress(&bytes), direct, "from the cache");
        }
        assert_eq!(cache.len(), 3);
        // Bytes that are no point: refused every time, and not held.
        let mut bad = [0u8; 32];
        bad[0] = 2;
        while CompressedEdwardsY(bad).decompress().is_some() {
            bad[0] += 1;
        }
        assert_eq!(cache.decompress(&bad), None);
        assert_eq!(cache.decompress(&bad), None);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_full_cache_starts_over_and_stays_within_its_bound() {
        let cache = KeyCache::with_capacity(4);
        for i in 1..=4 {
            cache.decompress(&key_bytes(i));
        }
        assert_eq!(cache.len(), 4);
        let fifth = key_bytes(5);
        assert_eq!(
            cache.decompress(&fifth),
            CompressedEdwardsY(fifth).decompress()
        );
        assert_eq!(cache.len(), 1);
        for i in 1..=40 {
            cache.decompress(&key_bytes(i));
            assert!(cache.len() <= 4);
        }
    }
}
