//! One partition as a pipeline: keep reading while sends are in flight, start each event
//! as soon as it is read (in order within its key, `by_key.rs`), commit the contiguous
//! prefix of what finished.
//!
//! ```text
//!  loop:
//!    lease lost?            stop: drop the window (its sends are cut off), commit nothing
//!    commit the prefix:     walk the window's front in offset order: handled events are
//!                           committed together; one that gave up is parked (commit what
//!                           came before it, then dead-letter it, which moves past it)
//!    stopping?              (shutdown, or our share shrank) read no more; once nothing
//!                           runs, hand back to the worker, everything finished committed
//!    window full?           (--max-in-flight, or less room than a batch while sends
//!                           run) wait for a handler to finish
//!    read:                  up to the room left; while the read is out, finished handlers
//!                           are recorded and their key's next event started. Nothing in
//!                           hand: the read blocks until an append. Sends in flight: it
//!                           does not block; if it finds nothing, wait for a handler to
//!                           finish or for `POLL_TICK`, whichever comes first
//!    start:                 each event read, unless its key has one in flight
//! ```
//!
//! An event waits only for the earlier events of its own key, never for a batch: at a
//! steady rate it is read one round trip after its append and started at once. The old
//! loop (read a batch, handle it all, commit, read again) made a new event wait for the
//! slowest send of the batch before it, and then for the commit.
//!
//! When to commit: as soon as a handler finishes, for everything that finished by then
//! (one round trip for all of them, not one per event). Not on a tick: a mail sent but not
//! committed is one a crash sends twice, and one a replay can race (`commit.lua` compares
//! offsets, so a late commit to the very offset a replay just set would undo the replay).
//! The price is how the loop waits while sends are in flight: the cursor does one thing at
//! a time, and a read cannot be abandoned to make way for a commit, since the read has
//! already taken effect in Redis (at-most-once it moved the offset; on Streams it put the
//! entries in our pending list). So with sends in flight the loop never blocks in Redis:
//! it reads without blocking and, finding nothing, waits locally for a handler to finish
//! (then commits at once) or for `POLL_TICK` (then reads again). An event appended then
//! waits at most that tick; an idle partition blocks in Redis as before.
//!
//! What a SIGKILL leaves: the committed prefix, and a window nobody finishes. At-least-once
//! the next holder reads again from the commit: what was past it (at most
//! `--max-in-flight` events, some of them sent already) is handled again; nothing is lost.
//! At-most-once the read had moved the group past the window: what was not sent is lost.

use crate::consumer::by_key::{Front, Window};
use crate::consumer::shared::Shared;
use crate::consumer::stuck_report::StuckReport;
use crate::cursor::Cursor;
use crate::dead_letter::DeadLetter;
use crate::error::{LogError, Result};
use crate::lease::Lease;
use crate::options::Delivery;
use crate::record::Record;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// While sends are in flight and the partition is drained, how often it is read again: the
/// most an event appended then waits before it is read (reads are one round trip each).
const POLL_TICK: Duration = Duration::from_millis(5);

/// Works the partition until it must go back to the worker's loop: a stop or a smaller
/// share (`Ok`, everything finished is committed), a replay (`Ok`, read again from it), a
/// lost lease or a Redis error (`Err`, nothing more committed).
pub(crate) async fn run(
    shared: &Arc<Shared>,
    lease: &Lease,
    cursor: &mut Cursor,
    report: &mut StuckReport,
) -> Result<()> {
    let config = &shared.config;
    let partition = cursor.partition();
    let mut window = Window::default();
    loop {
        // 1. The lease. Our commits would be refused anyway on the list engine (commit.lua
        //    checks the lease): the new owner reads from our last commit. Returning drops
        //    the window, which aborts its handlers.
        if lease.is_lost() {
            return Err(LogError::LeaseLost(partition));
        }
        // 2. Commit what finished, as far as the window's front is contiguous.
        match commit_prefix(shared, cursor, &mut window).await {
            Ok(true) => {}
            // An operator replayed the group while we worked: keep the replay, drop the
            // window, read again from where it put the group.
            Ok(false) => return replayed(partition),
            Err(e) => {
                window.let_running_finish().await;
                return Err(e);
            }
        }
        // 3. Stopping (shutdown, or a member joined and our share shrank): read no more and
        //    let what runs finish. Once nothing runs, everything finished is committed, so
        //    the worker can release the lease: a handover neither loses nor repeats.
        if shared.shutdown.is_cancelled() || shared.membership.above_share() {
            if window.is_running() {
                window.next_finished(shared, lease).await;
                continue;
            }
            if !window.is_empty() && config.delivery == Delivery::AtMostOnce {
                // Events that shutdown interrupted: the read moved past them already.
                tracing::warn!(
                    "consumer stopping: {} event(s) on partition {partition} are lost (at-most-once)",
                    window.unfinished()
                );
            }
            // At-least-once, what is left (interrupted, and its key's events behind it)
            // stays uncommitted for the next holder.
            return Ok(());
        }
        // 4. The window is full: wait for a handler to finish before reading more. This is
        //    what bounds the memory, and what a SIGKILL can send twice, per partition.
        //    Nearly full counts as full: with a backlog, reading the one or two places a
        //    finished send freed costs a round trip per event (and its commit another);
        //    waiting until a whole batch fits reads `--batch-size` events per round trip.
        let room = config.max_in_flight.saturating_sub(window.len());
        let worth_a_read = config.batch_size.min(config.max_in_flight).max(1);
        if room < worth_a_read && window.is_running() {
            window.next_finished(shared, lease).await;
            continue;
        }
        if room == 0 {
            window.next_finished(shared, lease).await;
            continue;
        }
        // 5. Read. Blocks up to `config.block` when the partition is drained and nothing is
        //    in hand: the engine waits on the partition's wake-up (lists) or in XREADGROUP
        //    BLOCK (streams), so a new event is picked up one round trip after its append.
        //    With something in the window, it does not block (see step 7).
        //    At-most-once, this read has already moved the group past what it returns.
        let block = if window.is_empty() {
            config.block
        } else {
            Duration::ZERO
        };
        let read = cursor.next_batch(room.min(config.batch_size), block);
        tokio::pin!(read);
        // The read is never abandoned (see the file's doc); while it is out, a handler that
        // finishes lets its key's next event start at once.
        let batch = loop {
            tokio::select! {
                batch = &mut read => break batch,
                true = window.next_finished(shared, lease) => {}
            }
        };
        let batch = match batch {
            // Read: if the partition was reported stuck, it flows again; say so and clear
            // it (nothing to do, no round trip, when it was not).
            Ok(batch) => {
                report.readable(shared).await;
                batch
            }
            Err(e) => {
                window.let_running_finish().await;
                return Err(e);
            }
        };
        // 6. Start each event read, unless an earlier event of its key is in flight.
        let drained = batch.is_empty();
        for record in batch {
            window.push(shared, lease, record);
        }
        // 7. Drained, with sends in flight: wait for one to finish (the next turn commits
        //    it) or for the tick (the next turn reads again), whichever comes first.
        if drained && !window.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(POLL_TICK) => {}
                true = window.next_finished(shared, lease) => {}
            }
        }
    }
}

/// Moves the group past the window's contiguous finished front: handled events in one
/// commit, each one given up on parked in the dead letters. `Ok(false)`: a replay moved
/// the group meanwhile.
async fn commit_prefix(shared: &Shared, cursor: &mut Cursor, window: &mut Window) -> Result<bool> {
    let config = &shared.config;
    // What succeeded and is not committed yet: always a prefix of the window, in order.
    let mut handled: Vec<Record> = Vec::new();
    while let Some(front) = window.pop_front() {
        match front {
            Front::Handled(record) => {
                shared.stats.handled.fetch_add(1, Ordering::Relaxed);
                // Not committed yet: one commit for every event finished since the last
                // turn, one round trip, not one per event. A crash before it only means
                // these are handled again.
                handled.push(record);
            }
            Front::GaveUp(record, attempts, error) => {
                // Commit what came before first. The list engine's offset would jump past
                // them anyway, but Streams acknowledges entry by entry: without this the
                // handled ones would stay pending and be delivered again after the next
                // handover. `false` from either call: an operator replayed the group.
                if !cursor.commit(&handled).await? {
                    return Ok(false);
                }
                handled.clear();
                // Then park it and move past it (one Lua call on lists, RPUSH then XACK on
                // Streams). Parked, not dropped: the event and why it failed stay visible
                // in `{events:P}:dead:GROUP`, and the events behind it flow again.
                let letter = DeadLetter::new(&config.group, &record, attempts, &error);
                if !cursor.dead_letter(&record, &letter).await? {
                    return Ok(false);
                }
                shared.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "consumer parked event at {} on partition {} in the dead letters after {attempts} attempt(s): {error}",
                    record.position,
                    record.partition
                );
            }
        }
    }
    // workshop 6.1: solution begin
    // Commit after success: the position moves only past events whose handler returned
    // Ok. Dying before this line leaves the position at the window's start, so the window
    // is handled again (duplicates, no loss). Read-and-advance (at-most-once) would have
    // lost it instead; for that mode the commit has nothing left to do.
    if !cursor.commit(&handled).await? {
        return Ok(false);
    }
    // workshop 6.1: solution end
    Ok(true)
}

/// A replay moved the group while the window was in hand. Not an error: the next read
/// starts from the replayed position, which is what the operator asked for.
fn replayed(partition: u32) -> Result<()> {
    tracing::info!(
        "consumer found its place in partition {partition} moved by a replay: reading again from there"
    );
    Ok(())
}
