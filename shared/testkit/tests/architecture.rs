//! The walls of ARCHITECTURE.md, checked: a wall that is only written down moves.
//!
//! * No import cycle between the files of any crate. File A depends on file B when A names
//!   `crate::b::...` or `super::...` that resolves to B (re-exports, `pub use`, are not
//!   counted: they are how a folder shows its face, not a dependency of its own).
//! * No arrow from `shared/` up into `strategies/`, and no strategy depends on another:
//!   only `benches/` sits above the strategies.
//! * Every Resque key of strategy 5 is spelled in one file (`keys.rs`).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every workspace package: its name, its folder relative to the root, and the workspace
/// packages it depends on (normal, dev or build).
fn packages() -> Vec<(String, PathBuf, Vec<String>)> {
    let metadata = metadata();
    let root = workspace_root();
    let names: BTreeSet<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            let dir = manifest
                .parent()
                .unwrap()
                .strip_prefix(&root)
                .unwrap()
                .to_path_buf();
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_string())
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_string(), dir, deps)
        })
        .collect()
}

#[test]
fn shared_crates_never_depend_on_a_strategy_and_strategies_never_on_each_other() {
    let packages = packages();
    let folder_of: BTreeMap<&str, &Path> = packages
        .iter()
        .map(|(name, dir, _)| (name.as_str(), dir.as_path()))
        .collect();
    let mut wrong = Vec::new();
    for (name, dir, deps) in &packages {
        for dep in deps {
            let dep_dir = folder_of[dep.as_str()];
            let upward = dir.starts_with("shared") && dep_dir.starts_with("strategies");
            let sideways = dir.starts_with("strategies") && dep_dir.starts_with("strategies");
            if upward || sideways {
                wrong.push(format!("{name} ({}) depends on {dep}", dir.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows the layering forbids:\n{}",
        wrong.join("\n")
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir, |path| path.extension().is_some_and(|e| e == "rs"))
}

/// Every file under `dir` that `keep` keeps, sorted.
fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file under `src/`: `src/a/b.rs` and `src/a/b/mod.rs` are `[a, b]`;
/// `lib.rs` and `main.rs` are the root `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The paths a line names after `crate::` or `super::`, with groups (`crate::{a, b::c}`)
/// expanded, each as its segments, `super` resolved against `module`.
fn named_paths(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (start, prefix) in [("crate::", Vec::new()), ("super::", parent(module))] {
        let mut rest = line;
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            rest = &rest[at + start.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base = prefix.clone();
            let mut tail = rest;
            // `super::super::x`
            while let Some(after) = tail.strip_prefix("super::") {
                base.pop();
                tail = after;
            }
            expand(&base, tail, &mut found);
        }
    }
    found
}

fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// Appends every path of `text` (a path, or a `{...}` group, followed by anything) to `out`.
fn expand(base: &[String], text: &str, out: &mut Vec<Vec<String>>) {
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(base, item.trim(), out);
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        expand(base, item.trim(), out);
        return;
    }
    let mut path = base.to_vec();
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        path.push(rest[..end].to_string());
        match rest[end..].strip_prefix("::") {
            Some(after) if after.starts_with('{') => return expand(&path, after, out),
            Some(after) => rest = after,
            None => break,
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

/// The longest prefix of `path` that is a module file of the crate.
fn resolve<'a>(
    modules: &'a BTreeMap<Vec<String>, PathBuf>,
    path: &[String],
) -> Option<&'a PathBuf> {
    (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]))
}

/// The file-level dependency graph of the crate whose sources are in `src`.
fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = rust_files(src);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter(|f| !matches!(module_of(src, f).as_slice(), []))
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let mut edges = BTreeSet::new();
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with("//")
                || line.starts_with("pub use")
                || line.starts_with("pub(crate) use")
            {
                continue;
            }
            for path in named_paths(line, &module) {
                if let Some(target) = resolve(&modules, &path) {
                    if target != file {
                        edges.insert(target.clone());
                    }
                }
            }
        }
        graph.insert(file.clone(), edges);
    }
    graph
}

/// One cycle of `graph`, if it has any, as the files around it.
fn find_cycle(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        marks: &mut BTreeMap<PathBuf, Mark>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_files() {
    let root = workspace_root();
    let mut cycles = Vec::new();
    for (name, dir, _) in packages() {
        let src = root.join(&dir).join("src");
        if !src.is_dir() {
            continue;
        }
        if let Some(cycle) = find_cycle(&graph(&src)) {
            let files: Vec<String> = cycle
                .iter()
                .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
                .collect();
            cycles.push(format!("{name}: {}", files.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_and_a_clean_tree() {
    let dir = std::env::temp_dir().join(format!("offload-architecture-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod a;\npub mod b;\npub use a::A;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::{c::C, self};\npub struct A;\n",
    )
    .unwrap();
    std::fs::write(src.join("b/mod.rs"), "pub mod c;\npub use c::C;\n").unwrap();
    std::fs::write(src.join("b/c.rs"), "pub struct C;\n").unwrap();
    assert_eq!(find_cycle(&graph(&src)), None);
    std::fs::write(
        src.join("b/c.rs"),
        "use super::super::a::A;\npub struct C;\n",
    )
    .unwrap();
    let cycle = find_cycle(&graph(&src)).expect("a.rs -> b/c.rs -> a.rs");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&src.join("b/c.rs")), "{cycle:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_resque_key_is_spelled_in_strategy_5s_keys_file() {
    let src = workspace_root().join("strategies/5-resque/src");
    let mut spelled = Vec::new();
    for file in rust_files(&src) {
        if file.file_name().is_some_and(|n| n == "keys.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if code.contains("\"resque:") {
                spelled.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        spelled.is_empty(),
        "Resque keys spelled outside keys.rs:\n{}",
        spelled.join("\n")
    );
}

/// The sections of ARCHITECTURE.md that map a crate: the heading's words, the crate folder.
fn codemap_sections() -> Vec<(String, PathBuf, String)> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut sections = Vec::new();
    for section in text.split("\n## ").skip(1) {
        let (heading, body) = section.split_once('\n').unwrap_or((section, ""));
        let folder = if let Some(rest) = heading.strip_prefix("Strategy ") {
            let number = rest.split(':').next().unwrap();
            std::fs::read_dir(root.join("strategies"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{number}-"))
                })
        } else if heading.starts_with("shared/") {
            Some(root.join(heading.trim()))
        } else {
            None
        };
        if let Some(folder) = folder {
            sections.push((heading.to_string(), folder, body.to_string()));
        }
    }
    sections
}

#[test]
fn architecture_md_maps_every_module_of_every_crate_and_names_nothing_that_is_gone() {
    let sections = codemap_sections();
    assert!(
        sections.len() >= 10,
        "a section per crate: {}",
        sections.len()
    );
    let mut wrong = Vec::new();
    for (heading, folder, body) in &sections {
        let src = folder.join("src");
        // Every module at the top of src/ (a file or a folder) is named in its section.
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if ["lib.rs", "main.rs", "bin"].contains(&name.as_str()) {
                continue;
            }
            let named = if path.is_dir() {
                format!("`{name}/")
            } else {
                format!("`{name}`")
            };
            if !body.contains(&named) {
                wrong.push(format!("{heading}: does not name {named}"));
            }
        }
        // Every file or folder the section names in backticks exists in the crate.
        let files: Vec<PathBuf> = rust_files(&src);
        for token in body.split('`').skip(1).step_by(2) {
            let token = token.trim_end_matches(['/', ',']);
            let is_path = token.ends_with(".rs") || token.ends_with(".lua");
            if !is_path {
                continue;
            }
            let exists = src.join(token).exists()
                || folder.join(token).exists()
                || files.iter().any(|f| f.ends_with(token))
                || walk_has(&src, token);
            if !exists {
                wrong.push(format!(
                    "{heading}: names `{token}`, which is not in {}",
                    src.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md and the tree disagree:\n{}",
        wrong.join("\n")
    );
}

/// Whether any file under `dir` ends with the path `tail` (for `.lua` files).
fn walk_has(dir: &Path, tail: &str) -> bool {
    !files_under(dir, |path| path.ends_with(tail)).is_empty()
}
