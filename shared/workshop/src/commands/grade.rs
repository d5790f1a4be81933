//! `check` and `check --all`: grade the current exercise, or every exercise you started,
//! and keep the verdict in the progress file (computed again from the branches when the
//! file was lost).

use super::attempt;
use crate::check::{self, Place, Scorecard, Tiers};
use crate::context::{branch_of, Workshop};
use crate::exercise::Exercise;
use crate::git;
use crate::progress::{self, Progress, Status};

/// Checks the current exercise in the working tree; whether it passed.
pub fn check_current(workshop: &Workshop) -> anyhow::Result<bool> {
    let exercise = workshop.require_current()?;
    let card = grade(workshop, exercise, &workshop.place())?;
    Ok(card.passed())
}

/// Checks every exercise that has a branch: the current one in the working tree, the
/// others as committed on their branch, each in a worktree of its own. Progress is
/// recomputed from what they do now.
pub fn check_all(workshop: &Workshop) -> anyhow::Result<bool> {
    let current = workshop.current()?.map(|e| e.id.clone());
    let mut all_passed = true;
    let mut summary = Vec::new();
    for exercise in &workshop.exercises {
        let branch = branch_of(&exercise.id);
        if !git::branch_exists(&workshop.root, &branch) {
            summary.push(format!("  {:<5} todo", exercise.id));
            continue;
        }
        let card = if current.as_deref() == Some(exercise.id.as_str()) {
            grade(workshop, exercise, &workshop.place())?
        } else {
            let tree = progress::dir(&workshop.root)
                .join("worktrees")
                .join(&exercise.id);
            git::fresh_worktree(&workshop.root, &tree, &branch)?;
            let place = Place {
                checkout: tree.clone(),
                target_dir: workshop.place().target_dir,
            };
            let card = grade(workshop, exercise, &place);
            git::remove_worktree(&workshop.root, &tree);
            card?
        };
        all_passed &= card.passed();
        let word = if card.passed() { "passed" } else { "started" };
        summary.push(format!("  {:<5} {word}", exercise.id));
    }
    println!("progress:\n{}", summary.join("\n"));
    Ok(all_passed)
}

/// Checks `exercise` in `place`, prints its scorecard and records the verdict.
fn grade(workshop: &Workshop, exercise: &Exercise, place: &Place) -> anyhow::Result<Scorecard> {
    println!("exercise {}: {}", exercise.id, exercise.title);
    println!("  building and running the checks (the first build takes a few minutes)...");
    let logs = progress::dir(&workshop.root)
        .join("checks")
        .join(&exercise.id);
    let card = check::check(exercise, place, &logs, Tiers::Both)?;
    print!("{}", card.render());
    let mut progress = Progress::load(&workshop.root)?;
    // Lost with `cargo clean`: the branch still knows where the exercise started.
    if !progress.exercises.contains_key(&exercise.id) {
        if let Some(entry) = attempt::entry_from_branch(&workshop.root, &exercise.id)? {
            progress.exercises.insert(exercise.id.clone(), entry);
        }
    }
    if let Some(entry) = progress.exercises.get_mut(&exercise.id) {
        entry.status = if card.passed() {
            Status::Passed
        } else {
            Status::Started
        };
        progress.save(&workshop.root)?;
    }
    Ok(card)
}
