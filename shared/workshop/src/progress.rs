//! Progress, kept in `target/workshop/progress.json` by exercise id (never by path), so
//! `cargo clean` is the only thing that forgets it and `check --all` can compute it again.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Todo,
    Started,
    Passed,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::Started => "started",
            Status::Passed => "passed",
        }
    }
}

/// One exercise's progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub status: Status,
    /// The finished code the exercise was started from.
    pub base: String,
    /// The commit that put the starter in place, the first commit of `ex/ID`.
    pub starter: String,
    /// How many hints were shown.
    #[serde(default)]
    pub hints_shown: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    pub exercises: BTreeMap<String, Entry>,
}

/// `target/workshop/` of the checkout at `root`: progress, and each check's runs and logs.
pub fn dir(root: &Path) -> PathBuf {
    root.join("target").join("workshop")
}

fn file(root: &Path) -> PathBuf {
    dir(root).join("progress.json")
}

impl Progress {
    /// The saved progress; none yet is an empty one.
    pub fn load(root: &Path) -> anyhow::Result<Progress> {
        match std::fs::read_to_string(file(root)) {
            Ok(text) => Ok(serde_json::from_str(&text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save(&self, root: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir(root))?;
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(file(root), text + "\n")?;
        Ok(())
    }

    pub fn status(&self, id: &str) -> Status {
        self.exercises
            .get(id)
            .map_or(Status::Todo, |entry| entry.status)
    }
}
