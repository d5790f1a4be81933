//! `workshop` / `workshop list`: every exercise, its strategy, and how far you got.

use crate::context::{branch_of, Workshop};
use crate::git;
use crate::progress::{Progress, Status};

pub fn list(workshop: &Workshop) -> anyhow::Result<()> {
    let progress = Progress::load(&workshop.root)?;
    let current = workshop.current()?.map(|e| e.id.clone());
    println!("   id    strategy  status   minutes  title");
    for exercise in &workshop.exercises {
        let mut status = progress.status(&exercise.id);
        // A branch made by hand, or progress lost to `cargo clean`: the branch still says
        // the exercise was started.
        if status == Status::Todo && git::branch_exists(&workshop.root, &branch_of(&exercise.id)) {
            status = Status::Started;
        }
        let mark = if current.as_deref() == Some(exercise.id.as_str()) {
            "*"
        } else {
            " "
        };
        println!(
            " {mark} {:<5} {:<9} {:<8} {:>7}  {}",
            exercise.id,
            exercise.strategy,
            status.word(),
            exercise.minutes,
            exercise.title
        );
    }
    println!();
    println!("scripts/workshop start ID   puts an exercise's starter in place on a branch ex/ID");
    Ok(())
}
