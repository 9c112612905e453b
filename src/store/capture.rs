//! Which channels may have a meeting capturing them, kept in memory on
//! SQLite so that `/action add` and `/decision record` do not each ask the
//! database (the read was the last sqlx statement of a command write: a
//! hand-off to sqlx's connection thread and back, and a pool return with a
//! ping, about a tenth of a command's CPU in the profile of issue 12).
//!
//! Only on SQLite, where one process writes the file (see [`super::lock`]),
//! so every series write goes through this process's store. On PostgreSQL
//! several instances write, and the store asks the database each time.
//!
//! The set may say too much, never too little: a pair in it only means the
//! database is asked. It is loaded on first use, and dropped after every
//! write that can make a series capture a channel (a new series, an
//! update), once that write committed. A load that raced such a write is
//! not kept (the generation changed while it read).

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Beyond this many capturing (workspace, channel) pairs the set is not
/// kept: the database is asked, as on PostgreSQL.
const MAX_PAIRS: usize = 100_000;

/// Channels by workspace.
type Pairs = HashMap<String, HashSet<String>>;

#[derive(Debug, Default)]
pub(super) struct CaptureCache {
    /// `None`: not loaded (or dropped). `Some(None)`: too many to keep.
    pairs: RwLock<Option<Option<Pairs>>>,
    generation: AtomicU64,
}

/// What the cache knows of one channel.
pub(super) enum Known {
    /// No active series of the workspace captures this channel.
    No,
    /// Ask the database.
    Maybe,
    /// Not loaded: load it with [`CaptureCache::store`], starting from this
    /// generation.
    Unloaded(u64),
}

impl CaptureCache {
    pub(super) fn lookup(&self, workspace: &str, channel: &str) -> Known {
        let pairs = match self.pairs.read() {
            Ok(p) => p,
            Err(_) => return Known::Maybe,
        };
        match &*pairs {
            None => Known::Unloaded(self.generation.load(Ordering::Acquire)),
            Some(None) => Known::Maybe,
            Some(Some(set)) => match set.get(workspace) {
                Some(channels) if channels.contains(channel) => Known::Maybe,
                _ => Known::No,
            },
        }
    }

    /// Keep `pairs`, read from the database when the generation was
    /// `generation`, unless a series write came in between.
    pub(super) fn store(&self, generation: u64, pairs: Vec<(String, String)>) {
        let kept = (pairs.len() <= MAX_PAIRS).then(|| {
            let mut by_workspace: HashMap<String, HashSet<String>> = HashMap::new();
            for (w, c) in pairs {
                by_workspace.entry(w).or_default().insert(c);
            }
            by_workspace
        });
        if let Ok(mut slot) = self.pairs.write() {
            if self.generation.load(Ordering::Acquire) == generation {
                *slot = Some(kept);
            }
        }
    }

    /// A series write committed: forget the set.
    pub(super) fn forget(&self) {
        if let Ok(mut slot) = self.pairs.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(w: &str, c: &str) -> (String, String) {
        (w.to_string(), c.to_string())
    }

    #[test]
    fn a_load_that_raced_a_series_write_is_not_kept() {
        let cache = CaptureCache::default();
        let Known::Unloaded(g) = cache.lookup("T1", "exec") else {
            panic!("a new cache is not loaded");
        };
        // A series write commits while the load reads the database.
        cache.forget();
        cache.store(g, vec![]);
        assert!(matches!(cache.lookup("T1", "exec"), Known::Unloaded(_)));
    }

    #[test]
    fn a_loaded_set_answers_no_only_for_pairs_it_lacks() {
        let cache = CaptureCache::default();
        let Known::Unloaded(g) = cache.lookup("T1", "exec") else {
            panic!("a new cache is not loaded");
        };
        cache.store(g, vec![pair("T1", "exec")]);
        assert!(matches!(cache.lookup("T1", "exec"), Known::Maybe));
        assert!(matches!(cache.lookup("T1", "other"), Known::No));
        assert!(matches!(cache.lookup("T2", "exec"), Known::No));
        cache.forget();
        assert!(matches!(cache.lookup("T1", "other"), Known::Unloaded(_)));
    }

    #[test]
    fn too_many_pairs_are_not_kept_and_the_database_is_asked() {
        let cache = CaptureCache::default();
        let Known::Unloaded(g) = cache.lookup("T1", "exec") else {
            panic!("a new cache is not loaded");
        };
        let many = (0..=MAX_PAIRS)
            .map(|i| pair("T1", &format!("c{i}")))
            .collect();
        cache.store(g, many);
        assert!(matches!(cache.lookup("T1", "nothing"), Known::Maybe));
    }
}
