//! Serialized answers kept for repeated requests, keyed by the warehouse state
//! they were made from (used for indicators answers: `flows::answers`).
//!
//! Federation staff open the same nodes again and again (a county's page with
//! its towns, the province's dashboard), and an answer with 100 children costs
//! tens of milliseconds to read, build and serialize. Between two changes to
//! the warehouse the answer is the same bytes, so they are kept here.
//!
//! **What makes a kept answer safe.** Every change an answer is made of
//! (figures, roll-ups, the tree over time, approvals) moves the warehouse's
//! answer generation in the same transaction (triggers, migration
//! `20261207000031`), whichever process makes it. A request reads the
//! generation *before* it makes its answer, so an answer kept under
//! generation G reflects at least the state G names; a request that reads a
//! newer generation drops every kept answer. The day (in the federation's
//! time zone) is part of the state too: a month's lock by time turns at
//! midnight. What an answer also depends on — the node, the period, the
//! children asked, the tree view — is its key; an answer whose children were
//! filtered for one caller is never kept.
//!
//! Bounded by `server.answer_cache_mb`: the oldest answers go first, and one
//! answer larger than a quarter of the bound is not kept.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use chrono::NaiveDate;

/// The warehouse state an answer was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub generation: i64,
    pub day: NaiveDate,
}

#[derive(Debug, Default)]
struct Inner {
    state: Option<State>,
    answers: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Inner {
    /// Drops everything kept when `state` is newer than the kept answers';
    /// false when `state` is older (an answer made from it is not kept).
    fn turn_to(&mut self, state: State) -> bool {
        match self.state {
            Some(s) if s == state => true,
            Some(s) if (s.generation, s.day) > (state.generation, state.day) => false,
            _ => {
                self.answers.clear();
                self.order.clear();
                self.bytes = 0;
                self.state = Some(state);
                true
            }
        }
    }
}

/// The kept answers of this process.
#[derive(Debug)]
pub struct AnswerCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

impl AnswerCache {
    /// Keeps at most `max_bytes` of answers (0: none).
    pub fn new(max_bytes: usize) -> AnswerCache {
        AnswerCache {
            max_bytes,
            inner: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The answer kept for `key` in `state`, if any.
    pub fn get(&self, state: State, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.turn_to(state) {
            return None;
        }
        inner.answers.get(key).cloned()
    }

    /// Keeps `answer`, made from `state`, for `key`.
    pub fn put(&self, state: State, key: String, answer: Bytes) {
        if !self.enabled() || answer.len() > self.max_bytes / 4 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.turn_to(state) || inner.answers.contains_key(&key) {
            return;
        }
        while inner.bytes + answer.len() > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.answers.remove(&oldest) {
                inner.bytes -= gone.len();
            }
        }
        inner.bytes += answer.len();
        inner.order.push_back(key.clone());
        inner.answers.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(generation: i64, day: u32) -> State {
        State {
            generation,
            day: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
        }
    }

    #[test]
    fn an_answer_is_served_only_in_the_state_it_was_made_from() {
        let cache = AnswerCache::new(1000);
        cache.put(state(7, 1), "a".into(), Bytes::from_static(b"seven"));
        assert_eq!(cache.get(state(7, 1), "a").as_deref(), Some(&b"seven"[..]));
        assert_eq!(cache.get(state(7, 1), "b"), None);
        // A newer generation drops it; an answer of the old one is not kept.
        assert_eq!(cache.get(state(8, 1), "a"), None);
        cache.put(state(7, 1), "a".into(), Bytes::from_static(b"seven"));
        assert_eq!(cache.get(state(8, 1), "a"), None);
        // The next day drops everything too.
        cache.put(state(8, 1), "a".into(), Bytes::from_static(b"eight"));
        assert_eq!(cache.get(state(8, 1), "a").as_deref(), Some(&b"eight"[..]));
        assert_eq!(cache.get(state(8, 2), "a"), None);
    }

    #[test]
    fn the_oldest_answers_go_first_and_a_large_one_is_not_kept() {
        let cache = AnswerCache::new(40);
        let s = state(1, 1);
        for key in ["a", "b", "c", "d", "e"] {
            cache.put(s, key.into(), Bytes::from(vec![0u8; 10]));
        }
        // 40 bytes hold four answers of 10: "a" went first.
        assert_eq!(cache.get(s, "a"), None);
        assert_eq!(cache.get(s, "b").map(|b| b.len()), Some(10));
        assert_eq!(cache.get(s, "e").map(|b| b.len()), Some(10));
        cache.put(s, "big".into(), Bytes::from(vec![0u8; 11]));
        assert_eq!(cache.get(s, "big"), None);
        assert_eq!(cache.get(s, "b").map(|b| b.len()), Some(10));
        let off = AnswerCache::new(0);
        assert!(!off.enabled());
        off.put(s, "a".into(), Bytes::from_static(b""));
        assert_eq!(off.get(s, "a"), None);
    }
}
