//! What every command starts from: the checkout, its exercises, and the exercise the
//! checked-out branch is for.

use crate::check::Place;
use crate::exercise::{self, Exercise};
use crate::git;
use std::path::{Path, PathBuf};

/// The branch of exercise `id`.
pub fn branch_of(id: &str) -> String {
    format!("ex/{id}")
}

/// The exercise a branch is for, from its name.
pub fn id_of_branch(branch: &str) -> Option<&str> {
    branch.strip_prefix("ex/")
}

pub struct Workshop {
    pub root: PathBuf,
    pub exercises: Vec<Exercise>,
}

impl Workshop {
    /// The workshop of the checkout the current directory is in.
    pub fn open() -> anyhow::Result<Workshop> {
        let root = git::root(&std::env::current_dir()?)?;
        Workshop::at(&root)
    }

    pub fn at(root: &Path) -> anyhow::Result<Workshop> {
        let exercises = exercise::catalog(root)?;
        Ok(Workshop {
            root: root.to_path_buf(),
            exercises,
        })
    }

    pub fn find(&self, id: &str) -> anyhow::Result<&Exercise> {
        exercise::find(&self.exercises, id)
    }

    /// The exercise of the checked-out `ex/ID` branch, if that is where we are.
    pub fn current(&self) -> anyhow::Result<Option<&Exercise>> {
        let branch = git::current_branch(&self.root)?;
        match branch.as_deref().and_then(id_of_branch) {
            Some(id) => Ok(Some(self.find(id)?)),
            None => Ok(None),
        }
    }

    /// The current exercise, or an error that says how to start one.
    pub fn require_current(&self) -> anyhow::Result<&Exercise> {
        self.current()?.ok_or_else(|| {
            anyhow::anyhow!(
                "no exercise is checked out (its branch is ex/ID): \
                 `scripts/workshop start ID` starts one, `scripts/workshop` lists them"
            )
        })
    }

    /// This checkout, built into `CARGO_TARGET_DIR` (default `target/`), as `cargo` would.
    pub fn place(&self) -> Place {
        Place {
            checkout: self.root.clone(),
            target_dir: target_dir(&self.root),
        }
    }
}

/// `CARGO_TARGET_DIR`, relative to `root` when it is relative; `root/target` without it.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
