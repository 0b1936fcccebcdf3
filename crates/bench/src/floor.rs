//! The parse floor: calamine opening each workbook from its bytes and streaming
//! the units sheet's cells — the least any ingest must do, and nothing else (no
//! cover, no header matching, no cell conversion, no validation, no storage).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use calamine::{Reader, Xlsx};
use unionstat_sample::UNITS_SHEET;

/// One pass of the floor over some files.
#[derive(Debug, Clone, Copy, Default)]
pub struct Floor {
    pub elapsed: Duration,
    pub cells: u64,
    /// Rows with a cell in column A (units, title, header, 合计 and note rows).
    pub rows: u64,
}

/// Reads `files` on `threads` threads (files dealt round-robin), each file read
/// from disk, opened with calamine and its units sheet streamed cell by cell.
pub fn run(files: &[PathBuf], threads: usize) -> anyhow::Result<Floor> {
    let threads = threads.max(1);
    let t = Instant::now();
    let results: Vec<anyhow::Result<(u64, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| s.spawn(move || read_some(files.iter().skip(k).step_by(threads))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a floor thread panicked")))
            })
            .collect()
    });
    let elapsed = t.elapsed();
    let mut floor = Floor {
        elapsed,
        ..Floor::default()
    };
    for r in results {
        let (cells, rows) = r?;
        floor.cells += cells;
        floor.rows += rows;
    }
    Ok(floor)
}

fn read_some<'a>(files: impl Iterator<Item = &'a PathBuf>) -> anyhow::Result<(u64, u64)> {
    let (mut cells, mut rows) = (0u64, 0u64);
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        let mut book = Xlsx::new(std::io::Cursor::new(bytes))
            .with_context(|| format!("calamine cannot open {}", f.display()))?;
        let mut reader = book
            .worksheet_cells_reader(UNITS_SHEET)
            .with_context(|| format!("{}: no units sheet", f.display()))?;
        while let Some(cell) = reader
            .next_cell()
            .with_context(|| format!("{}: unreadable cell", f.display()))?
        {
            cells += 1;
            if cell.get_position().1 == 0 {
                rows += 1;
            }
        }
    }
    Ok((cells, rows))
}
