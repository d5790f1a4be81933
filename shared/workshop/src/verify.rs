//! `workshop verify`: CI's proof that every exercise still teaches what it says.
//!
//! ```text
//! metadata: ids unique, README, 2-3 hints, conditions that name real runs, markers ⇔ ids
//! worktree target/workshop/verify/tree at HEAD, one CARGO_TARGET_DIR for every build:
//!   each exercise, finished code:  check passes
//!   each exercise, starter:        fmt and clippy pass; check fails for the expected reason
//!                                  (those tests fail, those counts miss; never a build
//!                                  error, a timeout or a harness that could not run);
//!                                  no harness run when only tests are expected to fail
//! ```
//!
//! The finished code is checked first for every exercise, after one build of everything
//! their checks need; then the starters, in rounds: the starters of different packages are
//! put in place together and built in one cargo run (the packages compile side by side on
//! both cores, and no package has two starters in one build), then each is linted and
//! checked on its own. Strategies never import each other and a check runs only its own
//! package's tests and strategy, so the starters of one round cannot meet.

use crate::check::{self, Place, Scorecard, TestOutcome, Tiers};
use crate::context::{self, Workshop};
use crate::exercise::Exercise;
use crate::logged;
use crate::progress;
use crate::{git, sources};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// What `verify` is asked to do.
pub struct Options {
    /// Only these exercises (all when empty).
    pub only: Vec<String>,
    /// Run each check this many times (to show that the verdict never changes).
    pub repeat: usize,
}

/// Verifies the exercises of the committed `HEAD`; whether all is well.
pub fn verify(workshop: &Workshop, options: &Options) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut problems = audit(workshop)?;
    let selected: Vec<&Exercise> = workshop
        .exercises
        .iter()
        .filter(|e| options.only.is_empty() || options.only.contains(&e.id))
        .collect();
    for id in &options.only {
        workshop.find(id)?;
    }
    let verify_dir = progress::dir(&workshop.root).join("verify");
    let tree = verify_dir.join("tree");
    git::fresh_worktree(&workshop.root, &tree, "HEAD")?;
    let place = Place {
        checkout: tree.clone(),
        target_dir: context::target_dir(&workshop.root),
    };
    let mut timings = Vec::new();
    let clock = Instant::now();
    prebuild(
        &selected,
        &place,
        &verify_dir.join("logs").join("build-finished"),
    )?;
    timings.push(("build, finished".to_string(), clock.elapsed()));
    for exercise in &selected {
        for round in 1..=options.repeat {
            let clock = Instant::now();
            let logs = verify_dir.join("logs").join(&exercise.id).join("solution");
            let card = check::check(exercise, &place, &logs, Tiers::Both)?;
            report(exercise, "finished code", round, &card);
            if !card.passed() {
                problems.push(format!(
                    "{}: the finished code does not pass its check",
                    exercise.id
                ));
            }
            timings.push((format!("{} finished", exercise.id), clock.elapsed()));
        }
    }
    for (number, group) in rounds(&selected).iter().enumerate() {
        let clock = Instant::now();
        for exercise in group {
            sources::put_starter_in_place(&tree, &exercise.id)?;
        }
        let build_logs = verify_dir
            .join("logs")
            .join(format!("build-starters-{}", number + 1));
        prebuild(group, &place, &build_logs)?;
        let ids: Vec<&str> = group.iter().map(|e| e.id.as_str()).collect();
        timings.push((
            format!("build, starters {}", ids.join(" ")),
            clock.elapsed(),
        ));
        for exercise in group {
            let clock = Instant::now();
            let logs = verify_dir.join("logs").join(&exercise.id).join("starter");
            problems.extend(lint(exercise, &place, &logs.join("lint"))?);
            let tiers = if exercise.starter_fails.behaviour.is_empty() {
                Tiers::FastOnly
            } else {
                Tiers::Both
            };
            for round in 1..=options.repeat {
                let card = check::check(exercise, &place, &logs.join("check"), tiers)?;
                report(exercise, "starter", round, &card);
                if let Err(why) = fails_as_expected(exercise, &card) {
                    problems.push(format!("{}: the starter {why}", exercise.id));
                }
            }
            timings.push((format!("{} starter", exercise.id), clock.elapsed()));
        }
        git::git(&tree, &["checkout", "--quiet", "--", "."])?;
    }
    git::remove_worktree(&workshop.root, &tree);

    println!("\nverify took {}", minutes(started.elapsed()));
    for (what, took) in &timings {
        println!("  {what:<30} {}", minutes(*took));
    }
    if problems.is_empty() {
        println!("every exercise: the starter fails as expected and the finished code passes.");
        return Ok(true);
    }
    println!("\nproblems:");
    for problem in &problems {
        println!("  {problem}");
    }
    Ok(false)
}

/// The exercises in rounds of at most one per package, each round in the exercises' order:
/// `1.1 2.1 3.1 ... 6.1`, then `3.2 5.2 6.2`.
fn rounds<'a>(exercises: &[&'a Exercise]) -> Vec<Vec<&'a Exercise>> {
    let mut rounds: Vec<Vec<&Exercise>> = Vec::new();
    for &exercise in exercises {
        let free = rounds
            .iter_mut()
            .find(|round| round.iter().all(|e| e.package != exercise.package));
        match free {
            Some(round) => round.push(exercise),
            None => rounds.push(vec![exercise]),
        }
    }
    rounds
}

/// Builds what the checks of `exercises` need in one cargo run per kind (binaries, then
/// test targets), so cargo compiles their packages side by side; each check's own build
/// then finds it done. A failure here is not the verdict: each check builds again and
/// reports its own package's error, so this only says where the log is.
fn prebuild(exercises: &[&Exercise], place: &Place, logs: &Path) -> anyhow::Result<()> {
    let [binaries, tests] = check::build_args(exercises, false);
    for (args, log) in [(binaries, "build.log"), (tests, "build-tests.log")] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = logs.join(log);
        let finished = logged::run(place.cargo(&args), &log, check::BUILD_LIMIT)?;
        if !finished.success {
            println!(
                "a shared build failed (log: {}); each check builds again and says which package",
                log.display()
            );
        }
    }
    Ok(())
}

fn minutes(d: Duration) -> String {
    format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
}

/// One line of figures per check, so that repeated runs can be compared at a glance.
fn report(exercise: &Exercise, version: &str, round: usize, card: &Scorecard) {
    let tests: Vec<String> = card
        .tests
        .iter()
        .map(|(name, outcome)| format!("{name}={outcome:?}"))
        .collect();
    let counts: Vec<String> = card
        .behaviour
        .iter()
        .map(|m| format!("{} {}", m.condition.count.name(), m.actual))
        .collect();
    let verdict = if card.passed() { "PASS" } else { "FAIL" };
    println!(
        "{} {version} #{round}: {verdict}  [{}]  {}{}",
        exercise.id,
        counts.join(", "),
        tests.join(" "),
        card.trouble
            .as_ref()
            .map(|t| format!("  trouble: {t:?}"))
            .unwrap_or_default()
    );
}

/// The starter must be code an attendee can work in: formatted, and clean under clippy.
/// Clippy looks at the library and the binaries, where the markers are; the test targets
/// only use the library's items, which a starter never removes, and checking them all
/// again for every exercise would cost minutes of CI time.
fn lint(exercise: &Exercise, place: &Place, logs: &Path) -> anyhow::Result<Vec<String>> {
    let package = exercise.package.as_str();
    let mut problems = Vec::new();
    let commands: [(&str, &[&str]); 2] = [
        ("fmt", &["fmt", "-p", package, "--", "--check"]),
        (
            "clippy",
            &[
                "clippy", "-p", package, "--lib", "--bins", "--", "-D", "warnings",
            ],
        ),
    ];
    for (name, args) in commands {
        let log = logs.join(format!("{name}.log"));
        let finished = logged::run(place.cargo(args), &log, Duration::from_secs(20 * 60))?;
        if !finished.success {
            println!("{}", logged::tail(&finished.output, 30));
            problems.push(format!(
                "{}: the starter fails `cargo {name}` (log: {})",
                exercise.id,
                log.display()
            ));
        }
    }
    Ok(problems)
}

/// `Ok` when the starter failed for the reasons `exercise.json` gives, and no other.
pub fn fails_as_expected(exercise: &Exercise, card: &Scorecard) -> Result<(), String> {
    if let Some(trouble) = &card.trouble {
        return Err(format!("failed for the wrong reason: {trouble:?}"));
    }
    let expected = &exercise.starter_fails;
    for name in &expected.fast {
        let outcome = card.tests.iter().find(|(n, _)| n == name).map(|(_, o)| *o);
        if outcome != Some(TestOutcome::Failed) {
            return Err(format!("should fail test {name}, and it ended {outcome:?}"));
        }
    }
    for condition in &expected.behaviour {
        let measured = card.behaviour.iter().find(|m| m.condition == *condition);
        match measured {
            Some(m) if !m.holds => {}
            Some(m) => {
                return Err(format!(
                    "should miss `{condition}`, and met it ({} {})",
                    m.condition.count.name(),
                    m.actual
                ))
            }
            None => return Err(format!("has no measure for `{condition}`")),
        }
    }
    if card.passed() {
        return Err("passes its check".into());
    }
    Ok(())
}

/// What can be checked without building: the metadata, and the markers against the ids.
pub fn audit(workshop: &Workshop) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for exercise in &workshop.exercises {
        let id = &exercise.id;
        if !ids.insert(id.clone()) {
            problems.push(format!("{id}: the id is used twice"));
        }
        problems.extend(
            audit_one(exercise)
                .into_iter()
                .map(|p| format!("{id}: {p}")),
        );
    }
    let mut marked = BTreeSet::new();
    for file in sources::marked_files(&workshop.root)? {
        marked.extend(file.ids);
    }
    for id in marked.difference(&ids) {
        problems.push(format!("markers for {id}, which no exercise.json declares"));
    }
    for id in ids.difference(&marked) {
        problems.push(format!("{id}: no markers in the source, so no starter"));
    }
    Ok(problems)
}

fn audit_one(exercise: &Exercise) -> Vec<String> {
    let mut problems = Vec::new();
    if !exercise.id.starts_with(&format!("{}.", exercise.strategy)) {
        problems.push(format!(
            "the id does not start with its strategy {}",
            exercise.strategy
        ));
    }
    if exercise.package != format!("strategy-{}", exercise.strategy) {
        problems.push(format!(
            "package {} is not strategy {}'s",
            exercise.package, exercise.strategy
        ));
    }
    match std::fs::read_to_string(exercise.readme()) {
        Ok(text) if text.trim().len() > 100 => {}
        _ => problems.push("README.md is missing or nearly empty".into()),
    }
    match exercise.hints() {
        Ok(hints) if (2..=3).contains(&hints.len()) => {}
        Ok(hints) => problems.push(format!("{} hints (2 or 3 wanted)", hints.len())),
        Err(e) => problems.push(format!("{e:#}")),
    }
    let behaviour = &exercise.behaviour;
    match loadtest::catalog::find(&exercise.strategy) {
        None => problems.push(format!("the harness has no strategy {}", exercise.strategy)),
        Some(strategy) => {
            if !strategy
                .variants
                .iter()
                .any(|v| v.name == behaviour.variant)
            {
                problems.push(format!(
                    "strategy {} has no variant {}",
                    strategy.id, behaviour.variant
                ));
            }
        }
    }
    if behaviour
        .scenario
        .parse::<loadtest::scenario::Scenario>()
        .is_err()
    {
        problems.push(format!("no scenario {}", behaviour.scenario));
    }
    if exercise.fast.iter().all(|t| t.names.is_empty()) || behaviour.pass.is_empty() {
        problems.push("a tier without tests or conditions".into());
    }
    let expected = &exercise.starter_fails;
    if expected.fast.is_empty() && expected.behaviour.is_empty() {
        problems.push("no expected failure for the starter".into());
    }
    let fast: BTreeSet<&str> = exercise.fast_names().collect();
    for name in &expected.fast {
        if !fast.contains(name.as_str()) {
            problems.push(format!(
                "the starter should fail {name}, which the fast tier does not run"
            ));
        }
    }
    for condition in &expected.behaviour {
        if !behaviour.pass.contains(condition) {
            problems.push(format!(
                "the starter should miss `{condition}`, which is not a pass condition"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(id: &str) -> Exercise {
        let strategy = &id[..1];
        serde_json::from_value(serde_json::json!({
            "id": id, "title": "t", "strategy": strategy,
            "package": format!("strategy-{strategy}"), "slide": "s", "minutes": 1,
            "fast": [],
            "behaviour": {"scenario": "steady", "variant": "default", "requests": 2,
                          "seed": 1, "pass": []},
            "starter_fails": {"fast": [], "behaviour": []}
        }))
        .unwrap()
    }

    #[test]
    fn starters_are_built_in_rounds_of_one_per_package_in_the_exercises_order() {
        let all: Vec<Exercise> = ["1.1", "3.1", "3.2", "3.3", "5.1", "5.2"]
            .into_iter()
            .map(exercise)
            .collect();
        let selected: Vec<&Exercise> = all.iter().collect();
        let ids: Vec<Vec<&str>> = rounds(&selected)
            .iter()
            .map(|round| round.iter().map(|e| e.id.as_str()).collect())
            .collect();
        assert_eq!(
            ids,
            [vec!["1.1", "3.1", "5.1"], vec!["3.2", "5.2"], vec!["3.3"]]
        );
    }
}
