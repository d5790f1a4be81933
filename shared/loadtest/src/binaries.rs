//! Where the strategy binaries are, and building them when a test or a bench needs them.
//!
//! `cargo build --workspace --bins` puts every binary of the workspace in one directory,
//! `target/<profile>/`, next to `loadtest` itself, so that is where `loadtest` looks by
//! default. A test or a bench of another package does not get those binaries built for it
//! (cargo builds only the binaries of the package under test), so [`build`] runs cargo for
//! the ones it needs, into the same target directory and profile as the running executable.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory of the running executable, with `deps/` stripped (where test and bench
/// executables live): `target/<profile>/`.
pub fn profile_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the running executable")?;
    let mut dir = exe
        .parent()
        .context("the executable has no directory")?
        .to_path_buf();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of `binary` in `dir`, if it is there.
pub fn find(dir: &Path, binary: &str) -> Option<PathBuf> {
    let path = dir.join(binary);
    path.is_file().then_some(path)
}

/// Builds `packages` with cargo into the target directory and profile that `profile_dir`
/// belongs to (`target/debug` → dev, `target/release` → release), so their binaries land
/// in `profile_dir`. Cargo does nothing when they are up to date. (A build for an explicit
/// `--target` triple, `target/<triple>/<profile>/`, is not handled.)
pub fn build(profile_dir: &Path, packages: &[&str]) -> anyhow::Result<()> {
    let target_dir = profile_dir
        .parent()
        .context("the profile directory has no parent")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => anyhow::bail!("{} is not a profile directory", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--profile", profile, "--target-dir"])
        .arg(target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command
        .status()
        .with_context(|| format!("running cargo to build {packages:?}"))?;
    anyhow::ensure!(
        status.success(),
        "cargo build {packages:?} failed: {status}"
    );
    Ok(())
}
