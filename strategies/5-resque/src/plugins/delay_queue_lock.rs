//! DelayQueueLock: refuses to enqueue a job while the same job (same bytes) is delayed.

use super::plugin::{HookResult, Plugin, PluginContext};
use futures_util::future::BoxFuture;

pub struct DelayQueueLock;

impl Plugin for DelayQueueLock {
    fn name(&self) -> &'static str {
        "DelayQueueLock"
    }

    fn before_enqueue<'a>(&'a self, cx: &'a PluginContext<'a>) -> BoxFuture<'a, HookResult<bool>> {
        Box::pin(async move {
            let scheduled = cx
                .queue
                .scheduled_at(cx.queue_name, cx.class, cx.args)
                .await?;
            Ok(scheduled.is_empty())
        })
    }
}
