//! How much workbook the ingest jobs of one process hold at once.
//!
//! A job holds its workbook from reading it until its acceptance is
//! committed: the file, the rows as read, the figures handed to the writer.
//! The job concurrency alone would bound that by the largest workbook allowed
//! (`ingest.max_rows`) times the jobs; the budget bounds it by what is really
//! being held. A job is admitted once its file's size fits in what is left of
//! `ingest.workbooks_in_flight_mb`, so town sheets of a few hundred rows run
//! as many at once as the concurrency allows while a province's 50,000-row
//! workbook waits for room (a file larger than the whole budget waits for all
//! of it, then runs alone).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget in KiB of stored workbook file.
#[derive(Debug, Clone)]
pub struct WorkbookBudget {
    room: Arc<Semaphore>,
    total_kib: u32,
}

impl WorkbookBudget {
    /// A budget of `mb` MiB of workbook files (at least one KiB).
    pub fn new(mb: u64) -> WorkbookBudget {
        let total_kib = u32::try_from(mb.saturating_mul(1024))
            .unwrap_or(Semaphore::MAX_PERMITS as u32)
            .clamp(1, Semaphore::MAX_PERMITS as u32);
        WorkbookBudget {
            room: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Waits until a file of `size_bytes` fits; its room is given back when
    /// the returned permit drops. (None only if the budget were closed, which
    /// it never is: the job then goes on without waiting.)
    pub async fn admit(&self, size_bytes: i64) -> Option<OwnedSemaphorePermit> {
        let kib = share_kib(size_bytes, self.total_kib);
        self.room.clone().acquire_many_owned(kib).await.ok()
    }
}

/// The KiB a file of `size_bytes` takes of a budget of `total_kib`: rounded
/// up, at least one, at most all of it.
fn share_kib(size_bytes: i64, total_kib: u32) -> u32 {
    let kib = (size_bytes.max(0) as u64).div_ceil(1024).max(1);
    u32::try_from(kib).unwrap_or(u32::MAX).min(total_kib)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_file_takes_its_size_in_kib_rounded_up_and_never_more_than_all() {
        assert_eq!(share_kib(0, 100), 1);
        assert_eq!(share_kib(-5, 100), 1);
        assert_eq!(share_kib(1, 100), 1);
        assert_eq!(share_kib(1024, 100), 1);
        assert_eq!(share_kib(1025, 100), 2);
        assert_eq!(share_kib(50 * 1024, 100), 50);
        assert_eq!(share_kib(500 * 1024, 100), 100);
        assert_eq!(share_kib(i64::MAX, 100), 100);
    }

    #[tokio::test]
    async fn small_files_share_the_budget_and_a_large_one_waits_for_room() {
        // 1 MiB: two 400 KiB files fit together, a third waits.
        let budget = WorkbookBudget::new(1);
        let a = budget.admit(400 * 1024).await;
        let b = budget.admit(400 * 1024).await;
        let third = budget.admit(400 * 1024);
        tokio::pin!(third);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut third)
                .await
                .is_err(),
            "a third 400 KiB file was admitted into 1 MiB beside two"
        );
        drop(a);
        let c = tokio::time::timeout(Duration::from_secs(1), third)
            .await
            .expect("admitted once room was given back");
        // A file larger than the whole budget waits for all of it.
        let huge = budget.admit(20 << 20);
        tokio::pin!(huge);
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut huge)
            .await
            .is_err());
        drop((b, c));
        let _all = tokio::time::timeout(Duration::from_secs(1), huge)
            .await
            .expect("admitted alone");
        assert_eq!(budget.room.available_permits(), 0);
    }
}
