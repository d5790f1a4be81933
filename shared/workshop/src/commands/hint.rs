//! `workshop hint`: the next hint of the current exercise, one more each time.

use crate::context::Workshop;
use crate::progress::Progress;

pub fn hint(workshop: &Workshop) -> anyhow::Result<()> {
    let exercise = workshop.require_current()?;
    let hints = exercise.hints()?;
    anyhow::ensure!(!hints.is_empty(), "exercise {} has no hints", exercise.id);
    let mut progress = Progress::load(&workshop.root)?;
    let shown = progress
        .exercises
        .get(&exercise.id)
        .map_or(0, |entry| entry.hints_shown);
    // Past the last hint, the last one again: there is nothing newer to give.
    let next = (shown + 1).min(hints.len());
    println!("hint {next} of {}\n", hints.len());
    println!("{}\n", hints[next - 1]);
    if next == hints.len() {
        println!(
            "That was the last hint; `scripts/workshop solution` puts the finished code in place."
        );
    }
    if let Some(entry) = progress.exercises.get_mut(&exercise.id) {
        entry.hints_shown = next;
        progress.save(&workshop.root)?;
    }
    Ok(())
}
