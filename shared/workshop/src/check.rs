//! `check`: one exercise, graded in two tiers, into a [`Scorecard`].
//!
//! ```text
//! build (the package's binaries and tests, the harness)    a build error stops here
//!   ─► fast tier: the exercise's named tests               seconds; which test failed
//!   ─► behaviour tier: one `loadtest compare` run, fixed   the number that moves:
//!      strategy, variant, scenario, requests and seed      lost 41 -> target 0
//! ```
//!
//! Both tiers always run once the build succeeds: the fast tier says what is wrong, the
//! behaviour tier shows what it costs in mail.

use crate::conditions::Condition;
use crate::exercise::{Behaviour, Exercise};
use crate::logged::{self, Finished};
use loadtest::account::Tally;
use loadtest::report::Report;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A build of a few packages in debug, incremental, on 2 shared cores.
pub const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);
/// The named tests of one exercise.
const TEST_LIMIT: Duration = Duration::from_secs(5 * 60);
/// One harness run of a few hundred requests, settling included.
const RUN_LIMIT: Duration = Duration::from_secs(4 * 60);

/// Where a check runs: a checkout and the cargo target directory its builds use.
#[derive(Debug, Clone)]
pub struct Place {
    pub checkout: PathBuf,
    pub target_dir: PathBuf,
}

impl Place {
    /// The directory cargo puts debug binaries in, where the harness finds the strategies.
    pub fn bin_dir(&self) -> PathBuf {
        self.target_dir.join("debug")
    }

    /// `cargo args` in this checkout, building into this target directory.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(args)
            .current_dir(&self.checkout)
            .env("CARGO_TARGET_DIR", &self.target_dir);
        command
    }
}

/// How a tool run ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    BuildFailed,
    TimedOut(&'static str),
    /// The harness could not run the strategy (it did not start, a port was taken...).
    RunFailed(String),
}

/// One fast-tier test and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed,
    /// Not run: its name matched no test (the exercise's metadata is wrong).
    Missing,
}

/// One pass condition and the count it was checked against.
#[derive(Debug, Clone)]
pub struct Measured {
    pub condition: Condition,
    pub actual: u64,
    pub holds: bool,
}

/// What a check found.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub id: String,
    pub trouble: Option<Trouble>,
    pub tests: Vec<(String, TestOutcome)>,
    pub behaviour: Vec<Measured>,
    /// `worker-crash, 100 requests`.
    pub run_label: String,
    /// The harness command that reproduces the behaviour run.
    pub reproduce: String,
    /// Where the logs of this check are.
    pub logs: PathBuf,
}

impl Scorecard {
    pub fn passed(&self) -> bool {
        self.trouble.is_none()
            && !self.behaviour.is_empty()
            && self.tests.iter().all(|(_, o)| *o == TestOutcome::Passed)
            && self.behaviour.iter().all(|m| m.holds)
    }

    /// The scorecard as a person reads it at a glance.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(trouble) = &self.trouble {
            out += &format!("  {}\n", describe(trouble));
        }
        for (name, outcome) in &self.tests {
            let word = match outcome {
                TestOutcome::Passed => "ok",
                TestOutcome::Failed => "FAIL",
                TestOutcome::Missing => "NOT FOUND",
            };
            out += &format!("  test {name}  {word}\n");
        }
        for m in &self.behaviour {
            let word = if m.holds { "ok" } else { "FAIL" };
            out += &format!(
                "  {}: {} {} -> target {}  {word}\n",
                self.run_label,
                m.condition.count.name(),
                m.actual,
                m.condition.target()
            );
        }
        out += &format!("  {}\n", if self.passed() { "PASSED" } else { "NOT YET" });
        if !self.reproduce.is_empty() {
            out += &format!("  reproduce: {}\n", self.reproduce);
        }
        out += &format!("  logs: {}\n", self.logs.display());
        if !self.behaviour.is_empty() {
            out += &format!(
                "  the harness run (each process's log, the mail ledger, report.md): {}\n",
                self.logs.join("behaviour").display()
            );
        }
        out
    }
}

fn describe(trouble: &Trouble) -> String {
    match trouble {
        Trouble::BuildFailed => "the build failed (see build.log in the logs)".into(),
        Trouble::TimedOut(what) => format!("{what} ran out of time"),
        Trouble::RunFailed(why) => format!("the harness could not run the strategy: {why}"),
    }
}

/// Which tiers a check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tiers {
    Both,
    /// Only the fast tier: for a starter whose expected failure is in its tests alone, the
    /// harness run would prove nothing more (and `verify` runs within a CI time budget). A
    /// scorecard without its behaviour tier never passes.
    FastOnly,
}

/// Checks `exercise` in `place`, keeping every log under `logs`.
pub fn check(
    exercise: &Exercise,
    place: &Place,
    logs: &Path,
    tiers: Tiers,
) -> anyhow::Result<Scorecard> {
    let behaviour = &exercise.behaviour;
    let mut card = Scorecard {
        id: exercise.id.clone(),
        trouble: None,
        tests: Vec::new(),
        behaviour: Vec::new(),
        run_label: format!("{}, {} requests", behaviour.scenario, behaviour.requests),
        reproduce: String::new(),
        logs: logs.to_path_buf(),
    };
    let _ = std::fs::remove_dir_all(logs);
    if let Err(trouble) = build(exercise, place, logs)? {
        card.trouble = Some(trouble);
        return Ok(card);
    }
    for target in &exercise.fast {
        let mut args = vec!["test", "-p", &exercise.package];
        match target.test.as_str() {
            "lib" => args.push("--lib"),
            test => args.extend(["--test", test]),
        }
        args.push("--");
        args.extend(target.names.iter().map(String::as_str));
        args.push("--exact");
        let log = logs.join(format!("fast-{}.log", target.test));
        let finished = logged::run(place.cargo(&args), &log, TEST_LIMIT)?;
        if finished.timed_out {
            card.trouble = Some(Trouble::TimedOut("the fast tier"));
        }
        for name in &target.names {
            card.tests
                .push((name.clone(), outcome(&finished.output, name)));
        }
    }
    if tiers == Tiers::FastOnly {
        return Ok(card);
    }
    let (command, display) = harness_command(exercise, place, logs);
    card.reproduce = display;
    let finished = logged::run(command, &logs.join("behaviour.log"), RUN_LIMIT)?;
    if finished.timed_out {
        card.trouble
            .get_or_insert(Trouble::TimedOut("the behaviour run"));
        return Ok(card);
    }
    match read_tally(&finished, behaviour, &logs.join("behaviour")) {
        Ok(tally) => {
            card.behaviour = behaviour
                .pass
                .iter()
                .map(|condition| Measured {
                    condition: *condition,
                    actual: condition.count.of(&tally),
                    holds: condition.holds(&tally),
                })
                .collect();
        }
        Err(why) => {
            card.trouble.get_or_insert(Trouble::RunFailed(why));
        }
    }
    Ok(card)
}

/// The two cargo runs that build what the checks of `exercises` need: the harness and the
/// packages' binaries, then their named test targets. With several packages, `--lib` would
/// build the unit tests of all of them, so `with_lib: false` leaves those to each check.
pub fn build_args(exercises: &[&Exercise], with_lib: bool) -> [Vec<String>; 2] {
    let mut binaries: Vec<String> = vec!["build".into(), "-p".into(), "loadtest".into()];
    let mut tests: Vec<String> = vec!["test".into(), "--no-run".into()];
    for exercise in exercises {
        binaries.extend(["-p".into(), exercise.package.clone()]);
        tests.extend(["-p".into(), exercise.package.clone()]);
        for target in &exercise.fast {
            match target.test.as_str() {
                "lib" if with_lib => tests.push("--lib".into()),
                "lib" => {}
                test => tests.extend(["--test".into(), test.into()]),
            }
        }
    }
    binaries.push("--bins".into());
    [binaries, tests]
}

/// Builds the package's binaries and tests and the harness. `Ok(Err(_))`: the code does
/// not build (or the build ran out of time), which the scorecard reports.
fn build(exercise: &Exercise, place: &Place, logs: &Path) -> anyhow::Result<Result<(), Trouble>> {
    let [binaries, tests] = build_args(&[exercise], true);
    for (args, log) in [(binaries, "build.log"), (tests, "build-tests.log")] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let finished = logged::run(place.cargo(&args), &logs.join(log), BUILD_LIMIT)?;
        if finished.timed_out {
            return Ok(Err(Trouble::TimedOut("the build")));
        }
        if !finished.success {
            eprintln!("{}", logged::tail(&finished.output, 40));
            return Ok(Err(Trouble::BuildFailed));
        }
    }
    Ok(Ok(()))
}

/// How test `name` ended, from libtest's `test NAME ... ok` lines.
fn outcome(output: &str, name: &str) -> TestOutcome {
    let prefix = format!("test {name} ... ");
    for line in output.lines() {
        if let Some(word) = line.strip_prefix(&prefix) {
            return if word.starts_with("ok") {
                TestOutcome::Passed
            } else {
                TestOutcome::Failed
            };
        }
    }
    TestOutcome::Missing
}

/// The behaviour run: the command to run, and how to type it to see the same run again.
fn harness_command(exercise: &Exercise, place: &Place, logs: &Path) -> (Command, String) {
    let b: &Behaviour = &exercise.behaviour;
    let args: Vec<String> = [
        "compare",
        "--strategies",
        &exercise.strategy,
        "--variants",
        &b.variant,
        "--scenarios",
        &b.scenario,
        "--requests",
        &b.requests.to_string(),
        "--seed",
        &b.seed.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let bin_dir = place.bin_dir();
    let mut command = Command::new(bin_dir.join("loadtest"));
    command
        .args(&args)
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(logs.join("behaviour"))
        .current_dir(&place.checkout);
    // As typed from the checkout's root: the binaries' folder relative to it when it is inside.
    let shown_bin_dir = bin_dir.strip_prefix(&place.checkout).unwrap_or(&bin_dir);
    let display = format!(
        "cargo build -p {} -p loadtest && {} {}",
        exercise.package,
        shown_bin_dir.join("loadtest").display(),
        args.join(" ")
    );
    (command, display)
}

/// The run's counts from its `report.json`, or why there are none.
fn read_tally(finished: &Finished, behaviour: &Behaviour, out: &Path) -> Result<Tally, String> {
    if !finished.success {
        return Err(format!(
            "loadtest failed:\n{}",
            logged::tail(&finished.output, 10)
        ));
    }
    let text = std::fs::read_to_string(out.join("report.json")).map_err(|e| e.to_string())?;
    let report: Report = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let run = report
        .runs
        .into_iter()
        .find(|r| r.variant == behaviour.variant && r.scenario == behaviour.scenario)
        .ok_or("the report has no such run")?;
    match run.error {
        Some(error) => Err(error),
        None => Ok(run.tally),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_outcomes_are_read_from_libtest_lines() {
        let output = "running 2 tests\ntest a::b ... ok\ntest c ... FAILED\n";
        assert_eq!(outcome(output, "a::b"), TestOutcome::Passed);
        assert_eq!(outcome(output, "c"), TestOutcome::Failed);
        assert_eq!(outcome(output, "b"), TestOutcome::Missing);
    }
}
