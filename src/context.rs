//! The shared context: the catalogue, the warehouse, the queue, the metrics
//! and the reader sandbox, opened once from the settings and handed to every
//! request handler, job handler and command.

use std::sync::Arc;

use unionstat_core::Catalog;

use crate::answer_cache::AnswerCache;
use crate::config::Settings;
use crate::queue::Queue;
use crate::sandbox::ReaderPool;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::workbook_budget::WorkbookBudget;

/// Everything a request handler or a job handler needs.
#[derive(Debug, Clone)]
pub struct AppContext {
    pub settings: Arc<Settings>,
    pub catalog: Arc<Catalog>,
    pub store: Store,
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
    /// The workbook readers shared by background jobs and dry runs.
    pub readers: Arc<ReaderPool>,
    /// Indicators answers kept for repeated requests (`server.answer_cache_mb`).
    pub answers: Arc<AnswerCache>,
    /// The workbooks this process's ingest jobs may hold at once
    /// (`ingest.workbooks_in_flight_mb`).
    pub workbooks: WorkbookBudget,
}

impl AppContext {
    /// Opens everything; fails with a message naming what is wrong.
    pub async fn build(settings: Settings) -> anyhow::Result<AppContext> {
        let catalog = settings.load_catalog()?;
        let store = Store::open(&settings).await?;
        let queue = Queue::open(&settings, &store).await?;
        let (settings, catalog) = (Arc::new(settings), Arc::new(catalog));
        let metrics = Arc::new(Metrics::new());
        metrics.start_at_zero(&catalog, &settings);
        let readers = Arc::new(ReaderPool::new(
            settings.clone(),
            catalog.clone(),
            metrics.clone(),
        ));
        let answers = Arc::new(AnswerCache::new(
            settings.server.answer_cache_mb.saturating_mul(1 << 20),
        ));
        let workbooks = WorkbookBudget::new(settings.ingest.workbooks_in_flight_mb);
        Ok(AppContext {
            workbooks,
            answers,
            settings,
            catalog,
            store,
            queue,
            metrics,
            readers,
        })
    }
}
