//! The marked files of a checkout: where the markers of each exercise are, and putting
//! one exercise's starter (or its solution) in place.

use crate::git;
use crate::markers::{self, Version};
use anyhow::Context;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The source files that can hold markers.
const EXTENSIONS: [&str; 2] = ["rs", "lua"];
/// Where exercises are: only the strategies have starters (the runner's own tests spell
/// markers in strings, and must not be taken for exercises).
const MARKED_TREE: &str = "strategies";

/// One tracked source file that has markers.
#[derive(Debug)]
pub struct MarkedFile {
    /// Relative to the checkout's root.
    pub path: PathBuf,
    pub ids: BTreeSet<String>,
}

/// Every tracked `.rs` and `.lua` file under `strategies/` of the checkout at `root` that
/// has markers, each checked (markers that parse, pair up and never nest).
pub fn marked_files(root: &Path) -> anyhow::Result<Vec<MarkedFile>> {
    let mut found = Vec::new();
    for path in git::tracked_files(root)? {
        let has_extension = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if !has_extension || !path.starts_with(MARKED_TREE) {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&path))
            .with_context(|| format!("reading {}", path.display()))?;
        if !text.contains(" workshop ") {
            continue;
        }
        let ids = markers::ids(&text, markers::comment_token(&path))
            .with_context(|| format!("in {}", path.display()))?;
        if !ids.is_empty() {
            found.push(MarkedFile { path, ids });
        }
    }
    Ok(found)
}

/// The files that exercise `id` changes.
pub fn files_of(root: &Path, id: &str) -> anyhow::Result<Vec<PathBuf>> {
    let files: Vec<PathBuf> = marked_files(root)?
        .into_iter()
        .filter(|f| f.ids.contains(id))
        .map(|f| f.path)
        .collect();
    anyhow::ensure!(
        !files.is_empty(),
        markers::MarkerError::UnknownId(id.into())
    );
    Ok(files)
}

/// Rewrites every file of exercise `id` in the checkout at `root` as `version`; returns
/// the files it rewrote.
pub fn put_in_place(root: &Path, id: &str, version: Version) -> anyhow::Result<Vec<PathBuf>> {
    let files = files_of(root, id)?;
    for path in &files {
        let full = root.join(path);
        let text = std::fs::read_to_string(&full)?;
        let comment = markers::comment_token(path);
        let swapped = match version {
            Version::Starter => markers::to_starter(&text, comment, id),
            Version::Solution => markers::to_solution(&text, comment, id),
        }
        .with_context(|| format!("in {}", path.display()))?;
        std::fs::write(&full, swapped)?;
    }
    Ok(files)
}
