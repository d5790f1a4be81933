//! The member's heartbeat: how a group splits its partitions without a coordinator.
//!
//! Every member says "alive" in one sorted set, scored by Redis's clock, and reads back how
//! many members are alive (`lua/heartbeat.lua`). Each then aims for its fair share,
//! `ceil(partitions / members)`: the workers take partitions below it and give back what is
//! above it. The heartbeat never takes a partition away; only an expired lease does that.

use crate::consumer::shared::Shared;
use std::sync::Arc;

/// Beats every third of the lease time until shutdown, and logs when the group grows or
/// shrinks. A third, like the lease renewal: a member that misses two beats in a row (a
/// slow Redis, a short pause) still counts as alive, so the shares do not flap.
pub(crate) async fn run(shared: Arc<Shared>) {
    let config = &shared.config;
    let mut members = 0;
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = tokio::time::sleep(config.lease_ttl / 3) => {}
        }
        match shared
            .membership
            .heartbeat(
                &shared.log.connection(),
                shared.log.keys(),
                &config.group,
                &config.member,
                config.lease_ttl,
            )
            .await
        {
            Ok(now) if now != members => {
                tracing::info!(
                    "consumer group {} has {now} live member(s): this member's share is {} partition(s)",
                    config.group,
                    shared.membership.share()
                );
                members = now;
            }
            Ok(_) => {}
            // Keep the last share: the leases, not the heartbeat, protect the partitions,
            // so acting on a stale count costs balance for a while, never correctness.
            Err(e) => tracing::warn!("consumer heartbeat failed: {e}"),
        }
    }
}
