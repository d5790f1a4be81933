//! Noop: a failed job is logged and forgotten (counted as a success, nothing in `failed`).

use super::plugin::{HookResult, Plugin, PluginContext};
use crate::wire::JobError;
use futures_util::future::BoxFuture;

pub struct Noop;

impl Plugin for Noop {
    fn name(&self) -> &'static str {
        "Noop"
    }

    fn after_perform<'a>(
        &'a self,
        cx: &'a PluginContext<'a>,
        error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        Box::pin(async move {
            if let Some(e) = error.take() {
                tracing::warn!(
                    class = cx.class,
                    queue = cx.queue_name,
                    "Noop plugin dropped a failure: {e}"
                );
            }
            Ok(())
        })
    }
}
