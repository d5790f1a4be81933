//! The two kinds of Redis connection a worker needs.
//!
//! * Commands go through a [`ConnectionManager`]: one multiplexed socket shared by every task,
//!   reconnected with backoff when Redis restarts.
//! * Blocking pops (`BLPOP`, `BLMOVE`) get a dedicated connection with **no response timeout**:
//!   redis-rs gives every async connection a 500 ms timeout by default, which would fail a
//!   `BLPOP` that waits longer, and a blocked command would stall every other command
//!   multiplexed behind it.

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client, RedisResult};
use std::time::Duration;

/// A shared, self-reconnecting connection for ordinary commands.
pub async fn commands(client: &Client) -> RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        // Generous: CI is a loaded 2-core machine, and a Lua promotion can take a while.
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_max_delay(Duration::from_secs(1));
    client.get_connection_manager_with_config(config).await
}

/// A connection for one blocking pop at a time.
pub async fn blocking(client: &Client) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_response_timeout(None)
        .set_connection_timeout(Some(Duration::from_secs(2)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}
