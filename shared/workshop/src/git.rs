//! The few git operations the runner needs, each one `git` command.
//!
//! An exercise is a branch, `ex/ID`, whose first commit is the starter: `git diff` on it
//! shows only the attendee's own work, and the finished code is the commit it grew from.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git args` in `dir`; its standard output, trimmed, or its error output as the error.
pub fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running git")?;
    anyhow::ensure!(
        output.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The root of the checkout that `dir` is in.
pub fn root(dir: &Path) -> anyhow::Result<PathBuf> {
    Ok(PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?))
}

/// Every file git tracks, relative to `root`.
pub fn tracked_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    Ok(git(root, &["ls-files"])?
        .lines()
        .map(PathBuf::from)
        .collect())
}

/// The commit `HEAD` points at.
pub fn head(root: &Path) -> anyhow::Result<String> {
    git(root, &["rev-parse", "HEAD"])
}

/// The checked-out branch, if any (`None` on a detached `HEAD`).
pub fn current_branch(root: &Path) -> anyhow::Result<Option<String>> {
    let name = git(root, &["rev-parse", "--abbrev-ref", "HEAD"])?;
    Ok((name != "HEAD").then_some(name))
}

pub fn branch_exists(root: &Path, branch: &str) -> bool {
    let reference = format!("refs/heads/{branch}");
    git(root, &["show-ref", "--verify", "--quiet", &reference]).is_ok()
}

/// Whether tracked files have changes that are not committed (untracked files are the
/// attendee's business).
pub fn has_uncommitted_changes(root: &Path) -> anyhow::Result<bool> {
    Ok(!git(root, &["status", "--porcelain", "--untracked-files=no"])?.is_empty())
}

/// Commits `files` with `message`. An attendee's machine may have no git identity yet;
/// the starter commit is the workshop's, so it says so when git has none.
pub fn commit(root: &Path, files: &[PathBuf], message: &str) -> anyhow::Result<String> {
    let mut add = vec!["add", "--"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    add.extend(names.iter().map(String::as_str));
    git(root, &add)?;
    let has_identity = git(root, &["config", "user.email"]).is_ok();
    let mut args = Vec::new();
    if !has_identity {
        args.extend([
            "-c",
            "user.name=workshop",
            "-c",
            "user.email=workshop@localhost",
        ]);
    }
    args.extend(["commit", "--quiet", "-m", message]);
    git(root, &args)?;
    head(root)
}

/// The oldest commit of `branch` whose message begins with `text`, if any.
pub fn oldest_commit_saying(
    root: &Path,
    branch: &str,
    text: &str,
) -> anyhow::Result<Option<String>> {
    let log = git(root, &["log", "--reverse", "--format=%H %s", branch])?;
    Ok(log.lines().find_map(|line| {
        let (hash, subject) = line.split_once(' ')?;
        subject.starts_with(text).then(|| hash.to_string())
    }))
}

/// Puts `files` in the working tree as they are in `commit`, leaving `HEAD` and the index
/// alone, so `git diff` shows the change.
pub fn restore(root: &Path, commit: &str, files: &[PathBuf]) -> anyhow::Result<()> {
    let source = format!("--source={commit}");
    let mut args = vec!["restore", &source, "--worktree", "--"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    git(root, &args).map(drop)
}

/// A new worktree at `path` with `commit` checked out (detached), replacing one left there.
pub fn fresh_worktree(root: &Path, path: &Path, commit: &str) -> anyhow::Result<()> {
    remove_worktree(root, path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let path = path.display().to_string();
    git(
        root,
        &["worktree", "add", "--quiet", "--detach", &path, commit],
    )
    .map(drop)
}

/// Removes the worktree at `path`, if there is one.
pub fn remove_worktree(root: &Path, path: &Path) {
    let shown = path.display().to_string();
    let _ = git(root, &["worktree", "remove", "--force", &shown]);
    let _ = std::fs::remove_dir_all(path);
    let _ = git(root, &["worktree", "prune"]);
}

/// Saves uncommitted changes to tracked files in a stash named `message`; whether there
/// were any.
pub fn stash(root: &Path, message: &str) -> anyhow::Result<bool> {
    if !has_uncommitted_changes(root)? {
        return Ok(false);
    }
    git(root, &["stash", "push", "--quiet", "-m", message])?;
    Ok(true)
}
