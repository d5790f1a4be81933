//! # Strategy 6: an immutable event log with consumer offsets
//!
//! The web front does not send mail and does not enqueue a job: it appends a fact,
//! `emailEvent`, to a log in Redis and answers with where the fact landed. Consumer
//! *groups* read the log at their own pace, each remembering how far it got (its
//! *offset*). The `mailer` group sends the mail; an `audit` group reads the very same
//! events and logs them. Nothing is removed by reading; events go away only by retention.
//!
//! ```text
//!  client ─GET─► web ──append.lua──► {events:P}:log   P = hash(key) % partitions
//!         ◄─200 {"event":{"partition":P,"offset":O}}   (O assigned by Redis)
//!                                        │  bumps {events:P}:wake
//!                    ┌───────────────────┴───────────────────┐
//!          group "mailer" (offset per partition)   group "audit" (its own offsets)
//!          member A: lease on P0,P1                 member C: lease on P0..P3
//!          member B: lease on P2,P3
//!          read.lua (read on, ahead of the offset) ─► handlers in flight, one per key
//!            ▲ while sends are in flight              │ each as soon as it is read
//!            └──── commit.lua (offset past the contiguous finished prefix) ◄┘
//!                   failing: retry with backoff, then
//!                   dead_letter.lua: park it, move past it
//! ```
//!
//! ## Offsets
//!
//! A partition is a Redis LIST; an event's offset is its list index plus the partition's
//! stored `base`. `append.lua` computes the offset in the same atomic call that appends, so
//! a late or slow producer simply gets a later offset: nothing can land behind a group's
//! cursor (test `an_event_published_after_the_consumer_went_idle_is_not_skipped`). Events
//! with the same key share a partition and are handled in publish order
//! (`events_of_a_partition_are_handled_in_publish_order`). Each group keeps one offset per
//! partition, so groups are independent: each sees every event
//! (`every_group_sees_every_event`). Inside a group, a partition is worked by one member at
//! a time, under a lease that expires when its holder dies; members split the partitions
//! evenly (`two_members_of_a_group_split_the_partitions_without_duplicates`). Retention
//! trims old events and adds what it trimmed to `base`, so offsets never change meaning
//! (`retention_drops_old_events_and_keeps_positions_valid`). Replay moves a group's offset
//! back to the start, to an offset, or to a time (`replay_redelivers_history`,
//! `the_replay_role_makes_the_group_send_history_again`). Producers and consumers must cut
//! the log alike, so the first process records the partition count and backend in Redis
//! and a process started with others is refused
//! (`a_process_that_cuts_the_log_differently_is_refused`).
//!
//! ## Delivery guarantees
//!
//! * **At-least-once** (default, `--delivery at-least-once`): the offset moves only after
//!   the handler succeeded. A consumer SIGKILLed with sends in flight leaves its offset
//!   behind them; the next lease holder handles again what was past it (at most
//!   `--max-in-flight` events per partition). Nothing is lost; the mails among them that
//!   were already sent are sent twice (`sigkill_mid_batch_loses_nothing_at_least_once_*`).
//! * **At-most-once** (`--delivery at-most-once`, the original design): `read.lua` advances
//!   the offset as it reads. A consumer SIGKILLed with sends in flight loses what it had
//!   read and not sent, silently; nothing is sent twice
//!   (`sigkill_mid_batch_loses_the_batch_at_most_once_*`).
//! * Either way, a handler that fails is retried with backoff; after `--max-attempts`
//!   (or at once for a permanent failure) the event is parked in the dead letters,
//!   `{events:P}:dead:GROUP`, and the group moves on: visible, not lost
//!   (`a_failing_event_is_dead_lettered_after_max_attempts_and_the_rest_flows`). The
//!   mailer group checks each payload again before it becomes a mail: a bad one is parked
//!   at once and never reaches SMTP
//!   (`the_mailer_group_parks_what_it_cannot_send_and_never_mails_a_bad_payload`).
//! * Order is per key, and the consumer is a pipeline, as Confluent's Parallel Consumer is
//!   with key ordering: it reads on while sends are in flight, starts each event as soon as
//!   it is read unless an earlier event of its key is still in flight, and moves the offset
//!   only past the contiguous prefix of finished events
//!   (`keys_of_a_partition_are_handled_concurrently_each_key_in_order`,
//!   `an_event_of_another_key_is_sent_while_a_slow_one_is_in_flight`). So concurrency
//!   follows the load, up to `--max-in-flight` events per partition.
//! * Order has a price: while an event is retried, the events of its key behind it wait;
//!   the other keys go on, until the events finished behind it fill the partition's
//!   `--max-in-flight` (the offset cannot move past it). That is why retries are bounded
//!   and end in the dead letters instead of blocking a partition forever.
//! * Bytes in the log that are not an event (not UTF-8, not JSON: written by something
//!   else) are parked at once, escaped, and the events around them flow
//!   (`an_entry_that_is_not_utf8_is_parked_and_its_batch_flows_*`).
//! * A key the log cannot read at all (`SET {events:1}:log x`, an offset that is not a
//!   number) stops its partition, on purpose: skipping would lose events without a word.
//!   The consumer says once which key holds what and how to repair it, and the web's
//!   `GET /healthz` lists the partition under `stuck` while it goes on taking mail; after
//!   the repair the partition flows again
//!   (`*_a_corrupted_partition_is_reported_once_shown_in_healthz_and_flows_once_repaired`).
//! * Where it still loses: Redis itself. An event is as durable as Redis's persistence
//!   (run it with AOF); the web front answers 503 when the append did not happen
//!   (`the_web_front_answers_503_while_redis_is_down_and_recovers`). Retention can trim
//!   events a slow group never read (the read reports how many it skipped).
//! * Known limits: a handler's attempts are counted in the member's memory, so an event
//!   that kills its consumer every time (rather than failing) is never dead-lettered and
//!   holds its partition up; an idle member notices a replay at its next read (after
//!   at most its blocking wait, 1 s), not at once.
//!
//! ## What was wrong with the original ("eventr")
//!
//! | original | here |
//! |---|---|
//! | `local counter = ...` inside an `if` shadowed the outer counter: the stored counter was never read, the first event came back forever | `read.lua` reads the stored offset; ordering and replay tests walk whole partitions |
//! | the cursor advanced even when a read found nothing, so later appends were skipped | an empty read moves nothing (`an_event_published_after_the_consumer_went_idle_is_not_skipped`) |
//! | partitions were minutes picked by the producer's clock; a late write to a drained minute was never read | partitions are chosen by key hash, offsets by Redis at append |
//! | advance-then-process, no retry, errors dropped: at-most-once | commit after success, retries, dead letters; at-most-once kept as an option to measure |
//! | idle consumers slept 5 s; one round trip per event | idle consumers block on `{events:P}:wake` (bumped by every append); batches |
//! | keys built inside the script (`numberOfKeys: 0`): not cluster-safe | every key in `KEYS`, one hash slot per call (`{events:P}`); runs on Redis Cluster (`the_log_runs_on_a_redis_cluster_with_partitions_on_several_nodes`) |
//! | lists grew forever | retention with a stored base offset |
//! | two processes with one name raced on partition moves | leases per partition, fenced reads and commits (`lists_a_member_that_lost_its_lease_can_neither_read_nor_commit`) |
//!
//! ## The Streams twin
//!
//! [`Backend::Streams`] gives the same API over Redis Streams: `XADD` assigns IDs,
//! `XREADGROUP`/`XACK` keep the group's position and pending entries, `XAUTOCLAIM` hands a
//! dead member's pending entries to the next lease holder, `XREADGROUP BLOCK` replaces the
//! wake-up stream. Positions are entry IDs instead of offsets. Both are implementations of
//! one trait, [`Engine`](engine::Engine): same guarantee, two storage models, and nothing
//! above the trait knows which one runs. Every behaviour test runs on both backends; the
//! benchmarks compare them (`benches/benches/event_log.rs`).
//!
//! ## Map of the crate
//!
//! * [`log`]: [`Log`], the producer and operator API (publish, replay, trim, range, dead
//!   letters). `Log::connect` picks the engine from [`options`] ([`Backend`]): the one
//!   place that branches on it.
//! * [`inspect`]: the operator's view (per partition: range, each group's place, lag,
//!   lease holder and expiry; a group's members) and retrying a dead letter, for the web's
//!   `/dashboard`.
//! * [`engine`]: the [`Engine`](engine::Engine) trait (append, range, replay, trim, dead
//!   letters, a group's positions, open a cursor) and its per-partition half,
//!   [`EngineCursor`](engine::EngineCursor) (next batch, commit, dead letter). Why boxed
//!   futures: see there.
//! * Its two engines, each in a folder of the same shape (`mod.rs`: the engine's log-wide
//!   side; `cursor.rs`: one member reading one partition; Streams adds `group.rs`,
//!   `entry.rs` and `entry_id.rs`): [`lists::ListEngine`], LISTs and the Lua of
//!   `src/lua/*.lua` (loaded by `scripts.rs`, each file headed by its KEYS, ARGV and steps);
//!   [`streams::StreamEngine`], Redis Streams.
//! * [`cursor`]: [`Cursor`](cursor::Cursor), one member's reader of one partition, over
//!   either engine's cursor.
//! * [`consumer`]: the group member runtime. Read `consumer/worker.rs` first (the lease),
//!   then `pipeline.rs`, the core loop (read on, start, commit the finished prefix),
//!   `by_key.rs` (the window, in order per key), `attempts.rs` (retries) and
//!   `heartbeat.rs` (the share). [`lease`]: partition ownership within a group.
//! * What flows through: [`event`] (what is published, where it lands, which partition),
//!   [`record`] (what a consumer reads), [`dead_letter`] (what a group parks), [`replay`]
//!   (where a replay goes), [`stuck`] (a partition a group cannot read, for `/healthz`);
//!   [`corrupt`]: how a key something else overwrote is found and named; [`keys`]: every
//!   Redis key; [`error`].
//! * [`connection`]: single Redis or cluster, and why blocking reads get their own
//!   connection.
//!
//! Files depend downward only, never in a circle: a file names files of lower layers, and
//! inside a layer there is no circle either.
//!
//! ```text
//! consumer, inspect               the group member runtime, the operator's view
//! log                             picks the engine, spreads calls over the partitions
//! lists, streams, cursor, lease   the two engines, the reader handle, partition ownership
//! engine, scripts                 the trait, the Lua
//! event, record, dead_letter, replay, stuck, corrupt, options, keys, error, connection
//! ```
//!
//! See ARCHITECTURE.md, section "Strategy 6: event log".

pub mod connection;
pub mod consumer;
pub mod corrupt;
pub mod cursor;
pub mod dead_letter;
pub mod engine;
pub mod error;
pub mod event;
pub mod inspect;
pub mod keys;
pub mod lease;
pub mod lists;
pub mod log;
pub mod options;
pub mod record;
pub mod replay;
mod scripts;
pub mod streams;
pub mod stuck;

pub use connection::{Connector, RedisConn};
pub use consumer::{ConsumerConfig, ConsumerHandle, Handler, HandlerError};
pub use dead_letter::DeadLetter;
pub use error::{LogError, Result};
pub use event::{Appended, Event, NewEvent, Position};
pub use log::Log;
pub use options::{Backend, Delivery, LogConfig};
pub use record::Record;
pub use replay::{ReplayTarget, Replayed};
pub use stuck::Stuck;
