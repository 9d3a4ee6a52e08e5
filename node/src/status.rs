//! What the node reports about itself: a snapshot the driver updates after every event and the
//! RPC and metrics endpoints read without touching the driver.

use std::sync::RwLock;

pub use engine::status::{BlockSummary, DivergenceNote, Status as StatusSnapshot};

#[derive(Debug, Default)]
pub struct StatusBoard(RwLock<StatusSnapshot>);

impl StatusBoard {
    pub fn snapshot(&self) -> StatusSnapshot {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut StatusSnapshot)) {
        f(&mut self.0.write().unwrap_or_else(|e| e.into_inner()));
    }
}
