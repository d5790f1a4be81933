//! An exercise as its folder describes it, and the list of every exercise.
//!
//! ```text
//! strategies/5-resque/exercises/1-reliable-fetch/
//!   README.md       goal, the symptom seen first, files to touch, the slide it belongs to
//!   hints.md        2 or 3 hints, each under a `## ` heading, shown one at a time
//!   exercise.json   what `check` runs and what it must see (this module's [`Exercise`])
//! ```
//!
//! Ids are stable (`5.1`: strategy 5, first exercise) and progress is kept by id, never by
//! path, so a folder can be renamed without losing anyone's progress.

use crate::conditions::Condition;
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `exercise.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    pub id: String,
    pub title: String,
    /// `"1"` to `"6"`, as the harness's `--strategies` names it.
    pub strategy: String,
    /// The cargo package the exercise changes (`strategy-5`).
    pub package: String,
    /// The slide of `slides/offload.md` the exercise belongs to.
    pub slide: String,
    /// About how long it takes, for the README's table.
    pub minutes: u32,
    /// The fast tier: named tests of the package.
    pub fast: Vec<TestTarget>,
    /// The behaviour tier: one harness run and what its counts must be.
    pub behaviour: Behaviour,
    /// What the untouched starter must get wrong; `workshop verify` holds it to that.
    pub starter_fails: StarterFailure,
    /// The folder this was read from (not in the file).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// One test target of the package and the tests of it to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestTarget {
    /// `tests/<test>.rs`, or `lib` for the unit tests in `src/`.
    pub test: String,
    /// Full test names (`module::name` for a test in a module), matched exactly.
    pub names: Vec<String>,
}

/// One `loadtest compare` run with everything fixed, and its pass conditions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    pub scenario: String,
    pub variant: String,
    pub requests: u64,
    /// Fixes every random choice of the run (which mails the flaky mail server refuses).
    pub seed: u64,
    /// Conditions on counts, never on latency: `lost == 0`, `rejected > 0`.
    pub pass: Vec<Condition>,
}

/// The starter's expected failure: these fast tests fail, these conditions are not met.
/// Anything else (a build error, a run that did not start, a timeout) is the wrong reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarterFailure {
    pub fast: Vec<String>,
    pub behaviour: Vec<Condition>,
}

impl Exercise {
    /// Reads `dir/exercise.json`.
    pub fn load(dir: &Path) -> anyhow::Result<Exercise> {
        let path = dir.join("exercise.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut exercise: Exercise =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        exercise.dir = dir.to_path_buf();
        Ok(exercise)
    }

    /// The hints, in order: each `## ` section of `hints.md`.
    pub fn hints(&self) -> anyhow::Result<Vec<String>> {
        let path = self.dir.join("hints.md");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(split_hints(&text))
    }

    /// The folder's README.md.
    pub fn readme(&self) -> PathBuf {
        self.dir.join("README.md")
    }

    /// Every fast-tier test name, for the scorecard.
    pub fn fast_names(&self) -> impl Iterator<Item = &str> {
        self.fast
            .iter()
            .flat_map(|t| t.names.iter().map(String::as_str))
    }
}

/// The `## ` sections of a hints file, each with its heading.
fn split_hints(text: &str) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            hints.push(String::new());
        }
        if let Some(hint) = hints.last_mut() {
            hint.push_str(line);
            hint.push('\n');
        }
    }
    hints.iter().map(|h| h.trim_end().to_string()).collect()
}

/// Every exercise of the workspace at `root`, ordered as the talk goes: by strategy, then
/// by exercise number (the ids).
pub fn catalog(root: &Path) -> anyhow::Result<Vec<Exercise>> {
    let mut exercises = Vec::new();
    let strategies = root.join("strategies");
    for strategy in sorted_dirs(&strategies)? {
        let folder = strategy.join("exercises");
        if !folder.is_dir() {
            continue;
        }
        for dir in sorted_dirs(&folder)? {
            exercises.push(Exercise::load(&dir)?);
        }
    }
    exercises.sort_by_key(|e| id_order(&e.id));
    Ok(exercises)
}

/// The exercise with `id`, or an error that lists the known ids.
pub fn find<'a>(exercises: &'a [Exercise], id: &str) -> anyhow::Result<&'a Exercise> {
    exercises.iter().find(|e| e.id == id).ok_or_else(|| {
        let ids: Vec<&str> = exercises.iter().map(|e| e.id.as_str()).collect();
        anyhow::anyhow!("unknown exercise {id:?}; known: {}", ids.join(", "))
    })
}

/// `5.1` sorts as `[5, 1]`, so `5.10` comes after `5.9`.
fn id_order(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|part| part.parse().unwrap_or(u32::MAX))
        .collect()
}

fn sorted_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_the_sections_of_the_file() {
        let hints = split_hints("# Hints\n\n## 1. Where\nlook here\n\n## 2. How\ndo this\n");
        assert_eq!(hints, ["## 1. Where\nlook here", "## 2. How\ndo this"]);
    }

    #[test]
    fn ids_sort_by_number_not_by_text() {
        let mut ids = vec!["5.10", "6.1", "5.2", "1.1"];
        ids.sort_by_key(|id| id_order(id));
        assert_eq!(ids, ["1.1", "5.2", "5.10", "6.1"]);
    }
}
