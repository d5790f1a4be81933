//! # Strategy 6: an immutable event log with consumer offsets
//!
//! (Module documentation: see the end of the implementation.)

pub mod connection;
pub mod consumer;
pub mod cursor;
pub mod dead_letter;
pub mod error;
pub mod event;
pub mod keys;
pub mod lease;
pub mod lists;
pub mod log;
pub mod options;
pub mod record;
pub mod replay;
mod scripts;
pub mod streams;

pub use connection::{Connector, RedisConn};
pub use consumer::{ConsumerConfig, ConsumerHandle, Handler, HandlerError};
pub use dead_letter::DeadLetter;
pub use error::{LogError, Result};
pub use event::{Appended, Event, NewEvent, Position};
pub use log::Log;
pub use options::{Backend, Delivery, LogConfig};
pub use record::Record;
pub use replay::{ReplayTarget, Replayed};
