//! [`Cursor`]: one member of a group reading one partition, whichever the engine.

use crate::dead_letter::DeadLetter;
use crate::engine::EngineCursor;
use crate::error::Result;
use crate::record::Record;
use std::time::Duration;

/// Reads batches of one partition for one group member, and moves the group past what it
/// handled. Holds a private connection for blocking reads. Made by `Log::cursor`.
pub struct Cursor {
    engine: Box<dyn EngineCursor>,
    partition: u32,
}

impl Cursor {
    pub(crate) fn new(partition: u32, engine: Box<dyn EngineCursor>) -> Cursor {
        Cursor { engine, partition }
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// Up to `max` records; if none are there, waits up to `block` for some.
    pub async fn next_batch(&mut self, max: usize, block: Duration) -> Result<Vec<Record>> {
        self.engine.next_batch(max, block).await
    }

    /// Moves the group past `handled` (the oldest of what was read and not committed, in
    /// order). `Ok(false)`: the group was moved meanwhile (a replay); drop what was read and
    /// read again.
    pub async fn commit(&mut self, handled: &[Record]) -> Result<bool> {
        self.engine.commit(handled).await
    }

    /// Parks `record` and moves past it. Commit the records before it first.
    pub async fn dead_letter(&mut self, record: &Record, letter: &DeadLetter) -> Result<bool> {
        self.engine.dead_letter(record, letter).await
    }
}
