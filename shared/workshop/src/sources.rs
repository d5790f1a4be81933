//! The marked files of a checkout: where the markers of each exercise are, and putting
//! one exercise's starter (or its solution) in place.

use crate::git;
use crate::markers;
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

/// Rewrites every file of exercise `id` in the checkout at `root` as its starter; returns
/// the files it rewrote.
pub fn put_starter_in_place(root: &Path, id: &str) -> anyhow::Result<Vec<PathBuf>> {
    let files = files_of(root, id)?;
    for path in &files {
        let full = root.join(path);
        let text = std::fs::read_to_string(&full)?;
        let comment = markers::comment_token(path);
        let swapped = markers::to_starter(&text, comment, id)
            .with_context(|| format!("in {}", path.display()))?;
        std::fs::write(&full, swapped)?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A git checkout with one marked Rust file and one marked Lua file under
    /// `strategies/`, and a marked file outside it that must be ignored.
    fn checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write(
            "strategies/9-demo/src/lib.rs",
            "// workshop 9.1: solution begin\nfn a() {}\n// workshop 9.1: solution end\n\
             // workshop 9.1: starter\n// fn b() {}\n// workshop 9.1: starter end\n",
        );
        write(
            "strategies/9-demo/src/lua/x.lua",
            "-- workshop 9.1: solution begin\nreturn 1\n-- workshop 9.1: solution end\n",
        );
        write("shared/x/src/lib.rs", "// workshop 9.2: solutoin begin\n");
        git::git(root, &["init", "--quiet"]).unwrap();
        git::git(root, &["add", "."]).unwrap();
        dir
    }

    #[test]
    fn the_starter_goes_in_every_marked_file_and_the_files_keep_their_markers() {
        let dir = checkout();
        let root = dir.path();
        let rust = root.join("strategies/9-demo/src/lib.rs");
        let files = put_starter_in_place(root, "9.1").unwrap();
        assert_eq!(files.len(), 2);
        let starter = std::fs::read_to_string(&rust).unwrap();
        assert!(!starter.contains("fn a()") && starter.contains("\nfn b() {}\n"));
        let lua = std::fs::read_to_string(root.join("strategies/9-demo/src/lua/x.lua")).unwrap();
        assert!(!lua.contains("return 1"));
        // The empty markers still name the exercise: `solution` finds its files again.
        assert_eq!(files_of(root, "9.1").unwrap(), files);
    }

    #[test]
    fn an_id_without_markers_is_refused_and_only_strategies_are_read() {
        let dir = checkout();
        let error = put_starter_in_place(dir.path(), "9.2").unwrap_err();
        assert_eq!(error.to_string(), "no workshop markers for exercise 9.2");
        let ids: Vec<_> = marked_files(dir.path())
            .unwrap()
            .into_iter()
            .flat_map(|f| f.ids)
            .collect();
        assert_eq!(ids, ["9.1", "9.1"]);
    }
}
