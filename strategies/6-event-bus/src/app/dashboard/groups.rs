//! Consumer groups x partitions: where each group stands in each partition, how far behind
//! the head it is, who holds its lease there and until when; and what retention keeps.

use super::{at_ms, Dashboard};
use kit::dashboard::widgets::{span, table, tiles, unseen};
use kit::dashboard::{html, Markup, Visit};
use strategy_6::LogError;

pub async fn page(dashboard: &Dashboard, visit: &Visit) -> Result<Markup, LogError> {
    let log = &dashboard.log;
    let names = dashboard.group_names().await?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let views = log.partition_views(&names).await?;
    let retained: u64 = views.iter().map(|v| v.end - v.first).sum();
    let dead: usize = views
        .iter()
        .flat_map(|v| &v.groups)
        .map(|g| g.dead_letters)
        .sum();
    let mut rows = Vec::new();
    for view in &views {
        for group in &view.groups {
            let partition = view.partition.to_string();
            rows.push(html! {
                tr {
                    td { b { (group.position.group) } }
                    td.num { (view.partition) }
                    td.num { (view.first) "‥" (view.end) }
                    td.num { code { (group.position.position) } }
                    td.num.lag { @match group.position.lag { Some(lag) => (lag), None => span.muted { "?" } } }
                    td.num { (group.position.pending) }
                    td {
                        @match &group.lease_holder {
                            Some(holder) => code { (holder) },
                            None => span.muted { "free" },
                        }
                    }
                    td.num { @if let Some(ms) = group.lease_expires_in_ms { (format!("{:.1} s", ms as f64 / 1000.0)) } }
                    td.num { (group.dead_letters) }
                    td { (visit.button("/replay", "Replay from start",
                        &[("group", group.position.group.clone()), ("partition", partition), ("to", "start".into())],
                        Some("Move this group back to the oldest retained event of this partition? It reads them all again."))) }
                }
            });
        }
    }
    let mut members = Vec::new();
    for name in &names {
        for (member, beat_ms) in log.members(name).await? {
            let ago = (now_ms().saturating_sub(beat_ms) / 1000) as i64;
            members.push(html! { tr { td { b { (name) } } td { code { (member) } } td { (at_ms(beat_ms)) " (" (span(ago)) " ago)" } } });
        }
    }
    let config = log.config();
    Ok(html! {
        (tiles(&[
            ("partitions", config.partitions.to_string()),
            ("backend", config.backend.name().to_string()),
            ("events retained", retained.to_string()),
            ("groups", names.len().to_string()),
            ("dead letters", dead.to_string()),
        ]))
        p.muted { "Position: lists show the next offset the group reads; Streams the last entry ID given to it. Lag: retained events after it. Pending: given to a member, not yet acknowledged (Streams)." }
        (table(&["group", "partition", "retained", "position", "lag", "pending", "lease holder", "expires in", "dead", ""], rows,
            "no partitions"))
        h2 { "Members" }
        (table(&["group", "member", "last heartbeat"], members, "no live member: no consumer is running"))
        (unseen("A consumer's retries in progress (attempts, backoff) live in its own process's memory and are not visible here."))
    })
}

pub async fn retention(dashboard: &Dashboard) -> Result<Markup, LogError> {
    let log = &dashboard.log;
    let mut rows = Vec::new();
    for partition in log.partitions() {
        let (first, end) = log.range(partition).await?;
        rows.push(html! { tr { td.num { (partition) } td.num { (first) } td.num { (end) } td.num { (end - first) } } });
    }
    let bound = |value: u64, what: &str| {
        if value == 0 {
            "no bound".to_string()
        } else {
            format!("{value} {what}")
        }
    };
    Ok(html! {
        (tiles(&[
            ("keep for", if dashboard.retain_secs == 0 { "ever".into() } else { span(dashboard.retain_secs as i64) }),
            ("keep at most", bound(dashboard.retain_max, "per partition")),
        ]))
        p { "This web role trims the log every 10 s (--retain-secs, --retain-max): events before the cut are gone for every group, and a group whose position was before it reads on from the first retained event." }
        (table(&["partition", "first retained", "end", "events"], rows, "no partitions"))
    })
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}
