//! QueueBus on this Redis: the applications, each one's subscriptions (as Redis holds them,
//! or why the driver cannot use one), and the bus queues with their lengths: the same
//! calls as `/resque/bus/...`. The keys are there whether or not this process runs `--bus`.

use super::text;
use crate::app::admin::Admin;
use kit::dashboard::widgets::table;
use kit::dashboard::{html, Markup};
use strategy_5::QueueError;

pub async fn page(admin: &Admin) -> Result<Markup, QueueError> {
    let apps = admin.bus_apps().await?;
    let subscriptions = admin.bus_subscriptions().await?;
    let queues = admin.bus_queues().await?;
    let mut rows = Vec::new();
    for (app, subs) in subscriptions["subscriptions"]
        .as_object()
        .into_iter()
        .flatten()
    {
        for (field, record) in subs.as_object().into_iter().flatten() {
            rows.push(html! {
                tr {
                    td { b { (app) } }
                    td { code { (field) } }
                    @match record.get("error") {
                        Some(why) => td.bad { "unusable: " (text(why)) },
                        None => td { code { (record) } },
                    }
                }
            });
        }
    }
    let queue_rows = queues["queues"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, length)| html! { tr { td { (name) } td.num { (text(length)) } } })
        .collect();
    let app_names: Vec<String> = apps["apps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    Ok(html! {
        p {
            "Applications: "
            @if app_names.is_empty() { span.muted { "none (start with --bus)" } }
            @else { (app_names.join(", ")) }
        }
        h2 { "Subscriptions" }
        (table(&["app", "subscription", "record"], rows, "no subscriptions"))
        h2 { "Bus queues" }
        (table(&["queue", "jobs"], queue_rows, "no bus queues"))
    })
}
