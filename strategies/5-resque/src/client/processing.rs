//! Reliable fetch's processing lists, read from the outside: the jobs each worker took and
//! has not finished (`processing:QUEUE:NAME`). Not part of Resque; the dashboard shows them
//! next to resque-web's pages, because they are where a crashed worker's job waits.

use super::error::Result;
use super::queue::Queue;
use redis::AsyncCommands;
use std::collections::BTreeMap;

impl Queue {
    /// Every non-empty processing list: its key without the namespace
    /// (`processing:QUEUE:NAME`) -> the payloads it holds, as text.
    pub async fn processing_lists(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let mut lists = BTreeMap::new();
        for key in self.scan(&self.keys.key("processing:*")).await? {
            // Read as bytes: a payload is whatever a client pushed (see `wire::Payload`).
            let jobs: Vec<Vec<u8>> = self.con.clone().lrange(&key, 0, -1).await?;
            if jobs.is_empty() {
                continue;
            }
            let jobs = jobs
                .iter()
                .map(|job| String::from_utf8_lossy(job).into_owned())
                .collect();
            lists.insert(self.keys.strip(&key).to_owned(), jobs);
        }
        Ok(lists)
    }
}
