//! [`Cursor`]: one member of a group reading one partition, whichever the backend.

use crate::connection::RedisConn;
use crate::dead_letter::DeadLetter;
use crate::error::Result;
use crate::lists::cursor::ListCursor;
use crate::log::Log;
use crate::options::{Backend, Delivery};
use crate::record::Record;
use crate::streams::cursor::StreamCursor;
use std::time::Duration;

enum Inner {
    Lists(ListCursor),
    Streams(StreamCursor),
}

/// Reads batches of one partition for one group member, and moves the group past what it
/// handled. Holds a private connection for blocking reads.
pub struct Cursor {
    inner: Inner,
    conn: RedisConn,
    blocking: RedisConn,
    partition: u32,
}

impl Cursor {
    pub(crate) async fn open(
        log: &Log,
        group: &str,
        partition: u32,
        member: &str,
        delivery: Delivery,
    ) -> Result<Cursor> {
        let keys = log.keys().clone();
        let inner = match log.config().backend {
            Backend::Lists => {
                Inner::Lists(ListCursor::new(keys, group, partition, member, delivery))
            }
            Backend::Streams => {
                Inner::Streams(StreamCursor::new(keys, group, partition, member, delivery))
            }
        };
        Ok(Cursor {
            inner,
            conn: log.connection(),
            blocking: log.connector().connect_blocking().await?,
            partition,
        })
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// Up to `max` records; if none are there, waits up to `block` for some.
    pub async fn next_batch(&mut self, max: usize, block: Duration) -> Result<Vec<Record>> {
        match &mut self.inner {
            Inner::Lists(c) => {
                c.next_batch(&mut self.conn, &mut self.blocking, max, block)
                    .await
            }
            Inner::Streams(c) => {
                c.next_batch(&mut self.conn, &mut self.blocking, max, block)
                    .await
            }
        }
    }

    /// Moves the group past `handled` (a prefix of the last batch, in order). `Ok(false)`:
    /// the group was moved meanwhile (a replay); drop the rest of the batch and read again.
    pub async fn commit(&mut self, handled: &[Record]) -> Result<bool> {
        match &mut self.inner {
            Inner::Lists(c) => c.commit(&mut self.conn, handled).await,
            Inner::Streams(c) => c.commit(&mut self.conn, handled).await,
        }
    }

    /// Parks `record` and moves past it. Commit the records before it first.
    pub async fn dead_letter(&mut self, record: &Record, letter: &DeadLetter) -> Result<bool> {
        match &mut self.inner {
            Inner::Lists(c) => c.dead_letter(&mut self.conn, record, letter).await,
            Inner::Streams(c) => c.dead_letter(&mut self.conn, record, letter).await,
        }
    }
}
