//! The ledger: one JSON line per message the sink accepted.
//!
//! The load harness joins this file with its own log of HTTP answers. A message is in
//! the ledger if and only if the sink answered `250` to its DATA, so "accepted by the web
//! front but not in the ledger" is exactly the silent loss the harness reports.

use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Write};
use std::path::Path;

/// One accepted message, as decoded by the sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub message_id: String,
    /// RFC 3339, with milliseconds.
    pub received_at: String,
    /// Every header name the message carried, in order. Kept in memory only (not in the
    /// ledger file), so tests can prove that no input ever added a header.
    #[serde(skip)]
    pub header_names: Vec<String>,
}

/// Appends lines to a ledger file. Each line goes out in one `write` on a file opened
/// with `O_APPEND`, so a reader never sees half a line from a single writer.
pub struct LedgerWriter {
    file: std::fs::File,
}

impl LedgerWriter {
    pub fn create(path: &Path) -> io::Result<LedgerWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(LedgerWriter { file })
    }

    pub fn append(&mut self, delivery: &Delivery) -> io::Result<()> {
        let mut line = serde_json::to_vec(delivery)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// Reads a ledger file. A missing file is an empty ledger; a line that does not parse
/// (a writer killed mid-line) is skipped.
pub fn read(path: &Path) -> io::Result<Vec<Delivery>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut deliveries = Vec::new();
    for line in io::BufReader::new(file).lines() {
        if let Ok(delivery) = serde_json::from_str(&line?) {
            deliveries.push(delivery);
        }
    }
    Ok(deliveries)
}
