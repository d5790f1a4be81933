//! What an admin page reads across the whole namespace: the `stat:*` counters, the plugin
//! locks and the scheduler leader. All read-only but `del_lock`.

use super::error::Result;
use super::queue::Queue;
use redis::AsyncCommands;
use std::collections::BTreeMap;

impl Queue {
    /// `stat:*` counters: `processed`, `failed`, `processed:NAME`, ...
    pub async fn stats(&self) -> Result<BTreeMap<String, String>> {
        let keys = self.scan(&self.keys.key("stat:*")).await?;
        if keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        let values: Vec<Option<String>> = self.con.clone().mget(&keys).await?;
        Ok(keys
            .iter()
            .zip(values)
            .filter_map(|(k, v)| {
                let name = self.keys.strip(k).strip_prefix("stat:")?.to_owned();
                Some((name, v?))
            })
            .collect())
    }

    /// Plugin locks (`lock:*`, `workerslock:*`) and their values.
    pub async fn locks(&self) -> Result<BTreeMap<String, String>> {
        let mut keys = self.scan(&self.keys.key("lock:*")).await?;
        keys.extend(self.scan(&self.keys.key("workerslock:*")).await?);
        let mut locks = BTreeMap::new();
        for key in keys {
            let value: Option<String> = self.con.clone().get(&key).await?;
            if let Some(value) = value {
                locks.insert(self.keys.strip(&key).to_owned(), value);
            }
        }
        Ok(locks)
    }

    pub async fn del_lock(&self, key: &str) -> Result<usize> {
        Ok(self.con.clone().del(self.keys.key(key)).await?)
    }

    /// The scheduler holding the leader lock, if any.
    pub async fn leader(&self) -> Result<Option<String>> {
        Ok(self.con.clone().get(self.keys.leader_lock()).await?)
    }

    /// Every key matching `pattern`. `SCAN`, not `KEYS`: it walks the keyspace in batches,
    /// so a large Redis keeps serving the workers in between.
    pub(crate) async fn scan(&self, pattern: &str) -> Result<Vec<String>> {
        let mut con = self.con.clone();
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}
