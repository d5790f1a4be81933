//! One connection type for a single Redis and for Redis Cluster, and the two flavours every
//! part of the log needs: a shared connection for quick commands, and a private one for
//! blocking reads.
//!
//! Why two: redis-rs 1.8 gives every async connection a 500 ms response timeout, blocking
//! commands included, so `XREAD BLOCK 1000` on a default connection fails after 500 ms.
//! A blocking read also holds up every command queued behind it on the same connection.
//! So each blocking reader gets a connection of its own with the timeout turned off.

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use std::time::Duration;

/// Quick commands give up after this long, so a web request gets its 503 quickly when
/// Redis is gone instead of hanging.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where Redis is: one server, or the seed nodes of a cluster.
#[derive(Debug, Clone)]
pub enum Connector {
    Single(String),
    Cluster(Vec<String>),
}

impl Connector {
    /// `cluster`: treat `url` as a comma-separated list of cluster seed nodes.
    pub fn from_url(url: &str, cluster: bool) -> Connector {
        if cluster {
            Connector::Cluster(url.split(',').map(|s| s.trim().to_string()).collect())
        } else {
            Connector::Single(url.to_string())
        }
    }

    /// A connection for quick commands, shared by cloning. It reconnects by itself after
    /// Redis restarts; commands sent while Redis is down fail (they are not queued).
    pub async fn connect(&self) -> RedisResult<RedisConn> {
        self.open(Some(RESPONSE_TIMEOUT)).await
    }

    /// A connection for one blocking reader: no response timeout. Do not share it.
    pub async fn connect_blocking(&self) -> RedisResult<RedisConn> {
        self.open(None).await
    }

    async fn open(&self, response_timeout: Option<Duration>) -> RedisResult<RedisConn> {
        match self {
            Connector::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(response_timeout)
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_millis(500));
                let manager = client.get_connection_manager_with_config(config).await?;
                Ok(RedisConn::Single(manager))
            }
            Connector::Cluster(seeds) => {
                let mut builder = ClusterClient::builder(seeds.clone())
                    .connection_timeout(Duration::from_secs(2))
                    .retries(3);
                if let Some(timeout) = response_timeout {
                    builder = builder.response_timeout(timeout);
                }
                let connection = builder.build()?.get_async_connection().await?;
                Ok(RedisConn::Cluster(connection))
            }
        }
    }
}

/// How big the cluster behind `conn` is, for the start-up log: the nodes it knows, and how
/// many of them serve hash slots (`CLUSTER INFO`'s `cluster_known_nodes`, `cluster_size`).
pub async fn cluster_size(conn: &mut RedisConn) -> RedisResult<(u64, u64)> {
    let info: String = redis::cmd("CLUSTER").arg("INFO").query_async(conn).await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((field("cluster_known_nodes"), field("cluster_size")))
}

/// A connection to a single Redis or to a cluster. Scripts and commands run on either: the
/// cluster client routes each call by its first key, which is why every call here keeps
/// all its keys in one hash slot.
#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
        }
    }
}
