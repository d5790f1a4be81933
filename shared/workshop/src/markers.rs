//! Exercise markers: the finished code and an exercise's starter, in one file.
//!
//! The finished strategy is the reference solution, and the starter is derived from it by
//! swapping marked blocks, so there is no second copy that can drift:
//!
//! ```text
//! // workshop 5.1: solution begin
//! ...finished code...
//! // workshop 5.1: solution end
//! // workshop 5.1: starter
//! // ...starter code, commented out, one `// ` per line...
//! // workshop 5.1: starter end
//! ```
//!
//! [`to_starter`] removes the solution lines (the markers stay, empty, to show where the
//! work goes) and uncomments the starter lines, so a starter never carries its answer;
//! the finished code comes back from git (`scripts/workshop solution`). The starter part
//! is optional: without it, the starter is the finished code minus the solution block.
//!
//! Blocks never nest or overlap: a marker met inside another block is an error, and so is
//! a line that looks like a marker but does not parse, so a typo cannot silently leave
//! finished code in a starter. Lua files use `--` instead of `//`.

use std::collections::BTreeSet;
use std::path::Path;

/// Why a file's markers cannot be swapped. `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkerError {
    #[error("line {line}: `{text}` looks like a workshop marker but is not one")]
    Malformed { line: usize, text: String },
    #[error("line {line}: marker of {found} inside the {open} block that starts on line {start}: blocks may not nest or overlap")]
    Nested {
        line: usize,
        found: String,
        open: String,
        start: usize,
    },
    #[error("line {line}: `{text}` without the marker that opens it")]
    Unopened { line: usize, text: String },
    #[error("the {id} block that starts on line {start} is never closed")]
    Unclosed { id: String, start: usize },
    #[error("line {line}: the starter part of {id} should be commented out here, and is not")]
    NotCommented { line: usize, id: String },
    #[error("no workshop markers for exercise {0}")]
    UnknownId(String),
}

/// The comment token of a source file, by extension: `--` for Lua, `//` otherwise.
pub fn comment_token(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("lua") => "--",
        _ => "//",
    }
}

/// The finished text with exercise `id`'s blocks turned into the starter: in every block
/// of `id`, the solution lines are removed and the starter lines uncommented.
pub fn to_starter(text: &str, comment: &str, id: &str) -> Result<String, MarkerError> {
    let blocks: Vec<Block> = blocks(text, comment)?
        .into_iter()
        .filter(|b| b.id == id)
        .collect();
    if blocks.is_empty() {
        return Err(MarkerError::UnknownId(id.to_string()));
    }
    let mut lines: Vec<Option<String>> = text.lines().map(|l| Some(l.to_string())).collect();
    for block in &blocks {
        for index in block.starter.clone() {
            let line = lines[index].as_deref().unwrap_or_default();
            let live =
                uncomment(line, &block.indent, comment).ok_or(MarkerError::NotCommented {
                    line: index + 1,
                    id: id.to_string(),
                })?;
            lines[index] = Some(live);
        }
        for index in block.solution.clone() {
            lines[index] = None;
        }
    }
    let mut out = lines.into_iter().flatten().collect::<Vec<_>>().join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Every exercise id that has blocks in `text`, after checking that all its markers parse
/// and pair up.
pub fn ids(text: &str, comment: &str) -> Result<BTreeSet<String>, MarkerError> {
    Ok(blocks(text, comment)?.into_iter().map(|b| b.id).collect())
}

/// One marked block: where its parts are, as line indices (0-based, markers excluded).
#[derive(Debug)]
struct Block {
    id: String,
    indent: String,
    solution: std::ops::Range<usize>,
    /// Empty when the block has no starter part.
    starter: std::ops::Range<usize>,
}

/// What a marker line says.
#[derive(Debug, PartialEq, Eq)]
enum Marker {
    SolutionBegin,
    SolutionEnd,
    Starter,
    StarterEnd,
}

/// `Some((indent, id, marker))` for a marker line, `None` for any other line; an error for
/// a line that starts like a marker and does not parse.
fn parse_marker<'a>(
    line: &'a str,
    comment: &str,
    number: usize,
) -> Result<Option<(&'a str, &'a str, Marker)>, MarkerError> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let Some(rest) = trimmed
        .strip_prefix(comment)
        .and_then(|r| r.strip_prefix(" workshop "))
    else {
        return Ok(None);
    };
    let malformed = || MarkerError::Malformed {
        line: number,
        text: trimmed.to_string(),
    };
    let (id, word) = rest.split_once(": ").ok_or_else(malformed)?;
    let marker = match word.trim_end() {
        "solution begin" => Marker::SolutionBegin,
        "solution end" => Marker::SolutionEnd,
        "starter" => Marker::Starter,
        "starter end" => Marker::StarterEnd,
        _ => return Err(malformed()),
    };
    let valid_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !valid_id {
        return Err(malformed());
    }
    Ok(Some((indent, id, marker)))
}

/// Every block of `text`, in order, checked for pairing and nesting.
fn blocks(text: &str, comment: &str) -> Result<Vec<Block>, MarkerError> {
    /// Where the parser is: outside any block, or in one part of the block opened at
    /// `start` (a line index).
    enum State {
        Outside,
        Solution { start: usize },
        AfterSolution,
        Starter { start: usize },
    }
    let mut found = Vec::new();
    let mut state = State::Outside;
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let Some((indent, id, marker)) = parse_marker(line, comment, number)? else {
            if matches!(state, State::AfterSolution) {
                found.extend(open.take());
                state = State::Outside;
            }
            continue;
        };
        // A block closes with the markers of its own id, at its own indentation.
        let same_block = open
            .as_ref()
            .is_some_and(|b| b.id == id && b.indent == indent);
        state = match (state, marker) {
            (State::Outside | State::AfterSolution, Marker::SolutionBegin) => {
                // A block without a starter part ends where the next one begins.
                found.extend(open.take());
                open = Some(Block {
                    id: id.to_string(),
                    indent: indent.to_string(),
                    solution: number..number,
                    starter: 0..0,
                });
                State::Solution { start: index }
            }
            (State::Solution { .. }, Marker::SolutionEnd) if same_block => {
                let block = open.as_mut().expect("a solution part is open");
                block.solution.end = index;
                State::AfterSolution
            }
            (State::AfterSolution, Marker::Starter) if same_block => {
                let block = open.as_mut().expect("a block is open");
                block.starter = number..number;
                State::Starter { start: index }
            }
            (State::Starter { .. }, Marker::StarterEnd) if same_block => {
                let mut block = open.take().expect("a starter part is open");
                block.starter.end = index;
                found.push(block);
                State::Outside
            }
            (State::Solution { start } | State::Starter { start }, _) => {
                let block = open.as_ref().expect("a block is open");
                return Err(MarkerError::Nested {
                    line: number,
                    found: id.to_string(),
                    open: block.id.clone(),
                    start: start + 1,
                });
            }
            (State::Outside | State::AfterSolution, _) => {
                return Err(MarkerError::Unopened {
                    line: number,
                    text: line.trim().to_string(),
                })
            }
        };
    }
    match state {
        State::Outside => {}
        State::AfterSolution => found.extend(open.take()),
        State::Solution { start } | State::Starter { start } => {
            let id = open.map(|b| b.id).unwrap_or_default();
            return Err(MarkerError::Unclosed {
                id,
                start: start + 1,
            });
        }
    }
    Ok(found)
}

/// `<indent>// <rest>` back to `<indent><rest>` (an editor's "toggle comment"; a bare
/// `<indent>//` is an empty line). `None` when the line is not commented that way.
fn uncomment(line: &str, indent: &str, comment: &str) -> Option<String> {
    let rest = line.strip_prefix(indent)?.strip_prefix(comment)?;
    if rest.is_empty() {
        return Some(String::new());
    }
    Some(format!("{indent}{}", rest.strip_prefix(' ')?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINISHED: &str = "\
fn send() -> u32 {
    // workshop 1.1: solution begin
    let answer = 502;
    // why: the client must know

    answer
    // workshop 1.1: solution end
    // workshop 1.1: starter
    // // the original said \"sent\" either way
    // 200
    // workshop 1.1: starter end
}
";

    const STARTER: &str = "\
fn send() -> u32 {
    // workshop 1.1: solution begin
    // workshop 1.1: solution end
    // workshop 1.1: starter
    // the original said \"sent\" either way
    200
    // workshop 1.1: starter end
}
";

    #[test]
    fn the_starter_drops_the_solution_and_uncomments_its_own_lines() {
        let starter = to_starter(FINISHED, "//", "1.1").unwrap();
        assert_eq!(starter, STARTER);
        // No trace of the answer, commented or not.
        assert!(!starter.contains("502") && !starter.contains("the client must know"));
    }

    #[test]
    fn a_block_without_a_starter_part_is_only_removed() {
        let text = "a\n// workshop 2.1: solution begin\nb\n// workshop 2.1: solution end\nc\n";
        let starter = to_starter(text, "//", "2.1").unwrap();
        assert_eq!(
            starter,
            "a\n// workshop 2.1: solution begin\n// workshop 2.1: solution end\nc\n"
        );
    }

    #[test]
    fn only_the_blocks_of_the_asked_id_move() {
        let text = format!("{FINISHED}{}", FINISHED.replace("1.1", "1.2"));
        let starter = to_starter(&text, "//", "1.2").unwrap();
        assert!(starter.starts_with(FINISHED));
        assert_eq!(
            ids(&text, "//").unwrap(),
            BTreeSet::from(["1.1".into(), "1.2".into()])
        );
    }

    #[test]
    fn lua_uses_its_own_comment_token() {
        let text = "-- workshop 6.1: solution begin\nif a then\n-- workshop 6.1: solution end\n\
                    -- workshop 6.1: starter\n-- if true then\n-- workshop 6.1: starter end\n";
        let starter = to_starter(text, comment_token(Path::new("read.lua")), "6.1").unwrap();
        assert!(!starter.contains("if a then"));
        assert!(starter.contains("\nif true then\n"));
    }

    #[test]
    fn an_unknown_id_is_refused() {
        assert_eq!(
            to_starter(FINISHED, "//", "9.9"),
            Err(MarkerError::UnknownId("9.9".into()))
        );
    }

    #[test]
    fn nested_blocks_are_refused() {
        let text = "// workshop 1.1: solution begin\n// workshop 1.2: solution begin\n\
                    // workshop 1.2: solution end\n// workshop 1.1: solution end\n";
        assert!(matches!(
            to_starter(text, "//", "1.1"),
            Err(MarkerError::Nested { line: 2, .. })
        ));
    }

    #[test]
    fn overlapping_blocks_are_refused() {
        let text = "// workshop 1.1: solution begin\na\n// workshop 1.2: solution begin\n\
                    // workshop 1.1: solution end\nb\n// workshop 1.2: solution end\n";
        assert!(matches!(
            ids(text, "//"),
            Err(MarkerError::Nested { line: 3, .. })
        ));
        // The same id closed at another indentation is another block, not this one's end.
        let text = "    // workshop 1.1: solution begin\n    // workshop 1.1: solution end\n\
                    // workshop 1.1: starter\n// workshop 1.1: starter end\n";
        assert!(matches!(
            ids(text, "//"),
            Err(MarkerError::Unopened { line: 3, .. })
        ));
    }

    #[test]
    fn a_misspelt_or_unclosed_marker_is_refused() {
        let typo = "// workshop 1.1: solutoin begin\n";
        assert!(matches!(
            ids(typo, "//"),
            Err(MarkerError::Malformed { line: 1, .. })
        ));
        let unclosed = "// workshop 1.1: solution begin\na\n";
        assert!(matches!(
            ids(unclosed, "//"),
            Err(MarkerError::Unclosed { start: 1, .. })
        ));
        let stray_end = "a\n// workshop 1.1: starter end\n";
        assert!(matches!(
            ids(stray_end, "//"),
            Err(MarkerError::Unopened { line: 2, .. })
        ));
    }

    #[test]
    fn a_starter_that_is_not_commented_out_in_the_finished_code_is_refused() {
        let text = "// workshop 1.1: solution begin\na\n// workshop 1.1: solution end\n\
                    // workshop 1.1: starter\nb\n// workshop 1.1: starter end\n";
        assert!(matches!(
            to_starter(text, "//", "1.1"),
            Err(MarkerError::NotCommented { line: 5, .. })
        ));
    }
}
