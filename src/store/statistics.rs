//! Keeping the planner's statistics in step with the warehouse's growth.
//!
//! PostgreSQL plans each prepared statement by the statistics it last
//! gathered of the tables involved, and the service keeps its connections —
//! and their prepared statements — for as long as it runs. Autovacuum gathers
//! them again only after a minute or so, and a warehouse that was empty when
//! its statements were first planned goes on being read as if it still were:
//! on the benchmark's province the writer's read of the rows a submission
//! replaces took ~100 ms a statement instead of ~1 ms, and placing a sheet's
//! units after a tree import 100–290 ms instead of 0.1 ms.
//!
//! So after its writes each process asks the database which of the
//! warehouse's tables changed by half their rows (and at least
//! [`STALE_ROWS`]) since their statistics were gathered, and gathers those
//! again (`ANALYZE`, which also makes every connection plan its statements
//! anew). The database's own counters cover every writer — the other worker
//! processes, bulk loads, tree changes — and a table growing from empty is
//! looked at again each time it doubles. The question is asked in the
//! background, at most once every [`MIN_GAP`] per process, and once more
//! after the last write of a burst, so no write waits for it. SQLite keeps no
//! statistics the planner would go by: there the question is never asked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A table is looked at again once this many of its rows changed, and at
/// least half of them.
pub(crate) const STALE_ROWS: i64 = 500;

/// At most one look per process in this time.
pub(crate) const MIN_GAP: Duration = Duration::from_secs(2);

/// Whether a look is running or due, per process (shared by a store's clones).
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// A look is running or waiting for its turn.
    running: bool,
    /// A write came while it ran: look once more.
    again: bool,
    last: Option<Instant>,
}

impl Gate {
    /// Call after a write committed: `look` (which gathers what is stale and
    /// names the tables) runs in the background unless a look is already
    /// running, in which case that one runs once more after it.
    pub(crate) fn after_write<F, Fut>(self: &Arc<Self>, look: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = sqlx::Result<Vec<String>>> + Send,
    {
        {
            let mut s = self.lock();
            if s.running {
                s.again = true;
                return;
            }
            s.running = true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.lock().running = false;
            return;
        };
        let gate = Arc::clone(self);
        runtime.spawn(async move {
            loop {
                let wait = gate
                    .lock()
                    .last
                    .map_or(Duration::ZERO, |t| MIN_GAP.saturating_sub(t.elapsed()));
                tokio::time::sleep(wait).await;
                match look().await {
                    Ok(tables) if !tables.is_empty() => {
                        tracing::info!(tables = %tables.join(", "), "planner statistics gathered again")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not gather the planner's statistics again; autovacuum will")
                    }
                }
                let mut s = gate.lock();
                s.last = Some(Instant::now());
                if !std::mem::take(&mut s.again) {
                    s.running = false;
                    break;
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_writes_looks_twice_and_a_quiet_write_once() {
        let gate = Arc::new(Gate::default());
        let looks = Arc::new(AtomicUsize::new(0));
        let look = {
            let looks = looks.clone();
            move || {
                let looks = looks.clone();
                async move {
                    looks.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![])
                }
            }
        };
        for _ in 0..10 {
            gate.after_write(look.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            looks.load(Ordering::SeqCst),
            1,
            "the first write looks at once"
        );
        tokio::time::sleep(MIN_GAP).await;
        assert_eq!(
            looks.load(Ordering::SeqCst),
            2,
            "the rest of the burst looks once more, a gap later"
        );
        tokio::time::sleep(MIN_GAP * 5).await;
        assert_eq!(
            looks.load(Ordering::SeqCst),
            2,
            "nothing written since: no more looks"
        );
        gate.after_write(look.clone());
        tokio::time::sleep(MIN_GAP).await;
        assert_eq!(looks.load(Ordering::SeqCst), 3);
        assert!(!gate.lock().running);
    }
}
