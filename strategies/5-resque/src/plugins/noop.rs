//! Noop: a failed job is forgotten (counted as processed, nothing in `failed`); the worker
//! still reports it as a failure, one that Noop took over.

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
        _cx: &'a PluginContext<'a>,
        error: &'a mut Option<JobError>,
    ) -> BoxFuture<'a, HookResult<()>> {
        // Taken, not hidden: the worker reports the failure as one this plugin took over.
        Box::pin(async move {
            error.take();
            Ok(())
        })
    }
}
