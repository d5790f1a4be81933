//! Dead letters, and the two ways back: retry one (its event is published again, a new
//! event that every group reads) or replay a group (it reads its own events again from a
//! position on, and nobody else does).

use super::{at_ms, status_of, Dashboard};
use hyper::StatusCode;
use kit::dashboard::widgets::table;
use kit::dashboard::{href_with_notice, html, Markup, Reply, Visit};
use strategy_6::{LogError, ReplayTarget};

pub async fn page(dashboard: &Dashboard, visit: &Visit) -> Result<Markup, LogError> {
    let mut sections = Vec::new();
    for group in dashboard.group_names().await? {
        let letters = dashboard.log.dead_letters(&group).await?;
        let mut index_in_partition = std::collections::HashMap::<u32, usize>::new();
        let rows = letters
            .iter()
            .map(|letter| {
                let index = index_in_partition.entry(letter.partition).or_default();
                let fields = |to: &str| {
                    vec![
                        ("group", group.clone()),
                        ("partition", letter.partition.to_string()),
                        ("index", index.to_string()),
                        ("position", letter.position.to_string()),
                        ("to", to.to_string()),
                    ]
                };
                let row = html! {
                    tr {
                        td.num { (letter.partition) }
                        td.num { code { (letter.position) } }
                        td { (at_ms(letter.failed_at)) }
                        td.num { (letter.attempts) }
                        td.bad { (letter.error) }
                        td { (letter.event["type"].as_str().unwrap_or("?")) }
                        td { code { (letter.event["payload"]) } }
                        td {
                            div.actions {
                                (visit.button("/dead/retry", "Retry", &fields(""), None))
                                (visit.button("/replay", "Replay from here", &fields(&letter.position.to_string()),
                                    Some("Move this group back to this event? It reads every event after it in this partition again.")))
                            }
                        }
                    }
                };
                *index += 1;
                row
            })
            .collect();
        sections.push(html! {
            h2 { "Group " (group) }
            (table(&["partition", "position", "parked at", "attempts", "last error", "type", "payload", ""], rows,
                "no dead letters"))
        });
    }
    Ok(html! {
        p { "Events a group gave up on after its attempts (or at once, for a permanent failure or an event it cannot decode). Parked, not lost." }
        @for section in sections { (section) }
    })
}

/// `POST /dashboard/dead/retry`: the form's letter, published again.
pub async fn retry(dashboard: &Dashboard, visit: &Visit) -> Reply {
    let form = &visit.form;
    let (group, partition, index, position) = match (
        form.text("group"),
        form.integer("partition"),
        form.integer("index"),
        form.text("position"),
    ) {
        (Ok(g), Ok(p), Ok(i), Ok(pos)) if p >= 0 && i >= 0 => (g, p as u32, i as usize, pos),
        (Err(why), ..) | (_, Err(why), ..) | (_, _, Err(why), _) | (.., Err(why)) => {
            return visit.refuse(StatusCode::BAD_REQUEST, &why)
        }
        _ => {
            return visit.refuse(
                StatusCode::BAD_REQUEST,
                "partition and index are not negative",
            )
        }
    };
    match dashboard.log.retry_dead_letter(group, partition, index, position).await {
        Ok(Some(appended)) => visit.finish(Reply::see_other(&href_with_notice(
            "/dead",
            &format!(
                "The event at {position} is published again: partition {}, position {}.",
                appended.partition, appended.position
            ),
        ))),
        Ok(None) => visit.refuse(
            StatusCode::NOT_FOUND,
            &format!("group {group} has no dead letter {index} at {position} in partition {partition} (the list changed?)"),
        ),
        Err(e) => visit.refuse(status_of(&e), &e.to_string()),
    }
}

/// `POST /dashboard/replay`: the form's group, moved in one partition.
pub async fn replay(dashboard: &Dashboard, visit: &Visit) -> Reply {
    let form = &visit.form;
    let (group, partition, to) = match (
        form.text("group"),
        form.integer("partition"),
        form.text("to"),
    ) {
        (Ok(g), Ok(p), Ok(to)) if p >= 0 => (g, p as u32, to),
        (Err(why), ..) | (_, Err(why), _) | (.., Err(why)) => {
            return visit.refuse(StatusCode::BAD_REQUEST, &why)
        }
        _ => return visit.refuse(StatusCode::BAD_REQUEST, "partition is not negative"),
    };
    let target: ReplayTarget = match to.parse() {
        Ok(target) => target,
        Err(why) => return visit.refuse(StatusCode::BAD_REQUEST, &why),
    };
    match dashboard.log.replay(group, &target, Some(partition)).await {
        Ok(done) => {
            let now = done.first().map(|r| r.now.to_string()).unwrap_or_default();
            visit.finish(Reply::see_other(&href_with_notice(
                "",
                &format!("Group {group} reads partition {partition} from {now} again."),
            )))
        }
        Err(e) => visit.refuse(status_of(&e), &e.to_string()),
    }
}
