//! `start`, `next`, `reset` and `solution`: moving between the starter, your work and the
//! finished code, all with git so nothing is ever lost.
//!
//! ```text
//! finished code (base) ──start ID──► ex/ID: "workshop ID: starter" ──► your commits
//!                                            ▲ reset                       │ solution: the
//!                                            └─────────────────────────────┘ base's files
//! ```

use crate::context::{branch_of, id_of_branch, Workshop};
use crate::exercise::Exercise;
use crate::git;
use crate::progress::{Entry, Progress, Status};
use crate::sources;
use std::path::Path;

/// Puts exercise `id`'s starter in place on a new branch `ex/ID`, committed, so that
/// `git diff` shows only your work from there on. Started before: switches back to it.
pub fn start(workshop: &Workshop, id: &str) -> anyhow::Result<()> {
    let exercise = workshop.find(id)?;
    let root = &workshop.root;
    let branch = branch_of(id);
    let current = git::current_branch(root)?;
    if current.as_deref() == Some(branch.as_str()) {
        println!("exercise {id} is checked out already ({branch}).");
        return Ok(());
    }
    anyhow::ensure!(
        !git::has_uncommitted_changes(root)?,
        "there are uncommitted changes: commit them (or `git stash`) before switching exercises"
    );
    let mut progress = Progress::load(root)?;
    if git::branch_exists(root, &branch) {
        git::git(root, &["checkout", "--quiet", &branch])?;
        println!("back on {branch}, where you left exercise {id}.");
        return introduce(exercise);
    }
    // From another exercise's branch, start from the finished code that one grew from,
    // not from its starter.
    let base = match current.as_deref().and_then(id_of_branch) {
        Some(other) => match progress.exercises.get(other) {
            Some(entry) => entry.base.clone(),
            None => anyhow::bail!("on {other}'s branch, but its progress is lost: `git checkout` the finished code first"),
        },
        None => git::head(root)?,
    };
    git::git(root, &["checkout", "--quiet", "-b", &branch, &base])?;
    let files = sources::put_starter_in_place(root, id)?;
    let starter = git::commit(
        root,
        &files,
        &format!("{} \"{}\"", starter_message(id), exercise.title),
    )?;
    progress.exercises.insert(
        id.to_string(),
        Entry {
            status: Status::Started,
            base,
            starter,
            hints_shown: 0,
        },
    );
    progress.save(root)?;
    println!("exercise {id} started on branch {branch}; the starter is committed, so `git diff` shows only your work.");
    for file in &files {
        println!("  starter in place: {}", file.display());
    }
    introduce(exercise)
}

/// How the starter commit of exercise `id` begins; [`entry_from_branch`] finds it by this.
fn starter_message(id: &str) -> String {
    format!("workshop {id}: the starter of")
}

/// The progress entry of exercise `id`, read from its branch when the progress file lost
/// it (`cargo clean`): the starter is the branch's commit that put it in place, the base is
/// that commit's parent. `None` without a branch, or on a branch with no starter commit.
pub fn entry_from_branch(root: &Path, id: &str) -> anyhow::Result<Option<Entry>> {
    let branch = branch_of(id);
    if !git::branch_exists(root, &branch) {
        return Ok(None);
    }
    let Some(starter) = git::oldest_commit_saying(root, &branch, &starter_message(id))? else {
        return Ok(None);
    };
    let base = git::git(root, &["rev-parse", &format!("{starter}^")])?;
    Ok(Some(Entry {
        status: Status::Started,
        base,
        starter,
        hints_shown: 0,
    }))
}

fn introduce(exercise: &Exercise) -> anyhow::Result<()> {
    println!();
    println!("Read {}", exercise.readme().display());
    println!("then: scripts/workshop check   (and scripts/workshop hint when stuck)");
    Ok(())
}

/// The exercise after the current one (or the first not passed yet), started.
pub fn next(workshop: &Workshop) -> anyhow::Result<()> {
    let progress = Progress::load(&workshop.root)?;
    let current = workshop.current()?;
    let next = match current {
        Some(exercise) => workshop
            .exercises
            .iter()
            .skip_while(|e| e.id != exercise.id)
            .nth(1),
        None => workshop
            .exercises
            .iter()
            .find(|e| progress.status(&e.id) != Status::Passed),
    };
    match next {
        Some(exercise) => start(workshop, &exercise.id),
        None => {
            println!("that was the last exercise.");
            Ok(())
        }
    }
}

/// Back to the starter: uncommitted work goes to a stash, commits stay in the reflog.
pub fn reset(workshop: &Workshop) -> anyhow::Result<()> {
    let exercise = workshop.require_current()?;
    let root = &workshop.root;
    let entry = entry_of(workshop, exercise)?;
    let before = git::head(root)?;
    save_work(workshop, exercise, "reset")?;
    git::git(root, &["reset", "--quiet", "--hard", &entry.starter])?;
    if before != entry.starter {
        println!("your commits are still reachable: `git reset --hard {before}` brings them back.");
    }
    println!("exercise {}: the starter is in place again.", exercise.id);
    Ok(())
}

/// The finished code of the exercise's files, in the working tree, not committed: `git
/// diff` shows it against your work.
pub fn solution(workshop: &Workshop) -> anyhow::Result<()> {
    let exercise = workshop.require_current()?;
    let root = &workshop.root;
    let entry = entry_of(workshop, exercise)?;
    save_work(workshop, exercise, "solution")?;
    let files = sources::files_of(root, &exercise.id)?;
    git::restore(root, &entry.base, &files)?;
    println!(
        "exercise {}: the finished code is in place (not committed):",
        exercise.id
    );
    for file in &files {
        println!("  {}", file.display());
    }
    println!("`git diff` shows it; `scripts/workshop reset` goes back to the starter.");
    Ok(())
}

fn entry_of(workshop: &Workshop, exercise: &Exercise) -> anyhow::Result<Entry> {
    if let Some(entry) = Progress::load(&workshop.root)?
        .exercises
        .remove(&exercise.id)
    {
        return Ok(entry);
    }
    entry_from_branch(&workshop.root, &exercise.id)?.ok_or_else(|| {
        anyhow::anyhow!(
            "no progress for {}, and no starter commit on its branch",
            exercise.id
        )
    })
}

/// Stashes uncommitted work before a command overwrites it, and says where it went.
fn save_work(workshop: &Workshop, exercise: &Exercise, command: &str) -> anyhow::Result<()> {
    let message = format!("workshop {}: your work before `{command}`", exercise.id);
    if git::stash(&workshop.root, &message)? {
        println!("your uncommitted work is saved: `git stash list` shows it, `git stash pop` brings it back.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_progress_entry_is_read_back_from_the_branch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = std::path::PathBuf::from("a.rs");
        let write = |text: &str| std::fs::write(root.join(&file), text).unwrap();
        git::git(root, &["init", "--quiet", "--initial-branch=main"]).unwrap();
        write("finished");
        let base = git::commit(root, std::slice::from_ref(&file), "the finished code").unwrap();
        assert!(
            entry_from_branch(root, "9.1").unwrap().is_none(),
            "no branch yet"
        );

        git::git(root, &["checkout", "--quiet", "-b", "ex/9.1"]).unwrap();
        write("starter");
        let message = format!("{} \"a demo\"", starter_message("9.1"));
        let starter = git::commit(root, std::slice::from_ref(&file), &message).unwrap();
        write("my work");
        git::commit(root, std::slice::from_ref(&file), "my work").unwrap();

        let entry = entry_from_branch(root, "9.1").unwrap().expect("an entry");
        assert_eq!((entry.base, entry.starter), (base, starter));
        assert_eq!(entry.status, Status::Started);
        // The id is matched whole: 9.1's starter is not 9.10's.
        git::git(root, &["branch", "ex/9.10"]).unwrap();
        assert!(entry_from_branch(root, "9.10").unwrap().is_none());
    }
}
