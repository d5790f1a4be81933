//! Resident memory (`VmRSS` in `/proc/<pid>/status`) of every process of a deployment,
//! read before the load and after it settled: a queue, a spawned task or a buffer that
//! grows without bound shows up as a process whose "after" keeps rising with the run's length.
//!
//! The processes are the deployment's own ([`crate::deployment::Deployment::pids`]) and
//! their children (the worker strategy 3's supervisor forks), read from
//! `/proc/<pid>/task/<tid>/children`.

use serde::{Deserialize, Serialize};

/// One process's resident memory, in KiB, at the two moments of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessMemory {
    /// The role (`web`, `worker`, `supervisor`, `redis`), `<role> child <n>` for the
    /// n-th process it forked.
    pub process: String,
    pub before_kib: Option<u64>,
    pub after_kib: Option<u64>,
}

/// One reading: each process by name, with its pid and its RSS (`None` once it is gone).
pub type Sample = Vec<(String, u32, Option<u64>)>;

/// Reads the RSS of `pids` and of their children.
pub fn sample(pids: &[(&str, u32)]) -> Sample {
    let mut sample = Sample::new();
    for &(role, pid) in pids {
        sample.push((role.to_string(), pid, rss_kib(pid)));
        // Numbered in pid order, the order they were forked in (strategy 3 forks a web
        // child and a worker child); a re-forked child comes last.
        for (n, child) in children(pid).into_iter().enumerate() {
            sample.push((format!("{role} child {}", n + 1), child, rss_kib(child)));
        }
    }
    sample
}

/// The before and after readings, paired by process name: a process restarted by a fault
/// has a new pid and the same name.
pub fn pair(before: &Sample, after: &Sample) -> Vec<ProcessMemory> {
    let mut paired: Vec<ProcessMemory> = before
        .iter()
        .map(|(process, _, rss)| ProcessMemory {
            process: process.clone(),
            before_kib: *rss,
            after_kib: None,
        })
        .collect();
    for (process, _, rss) in after {
        match paired
            .iter_mut()
            .find(|p| p.process == *process && p.after_kib.is_none())
        {
            Some(known) => known.after_kib = *rss,
            None => paired.push(ProcessMemory {
                process: process.clone(),
                before_kib: None,
                after_kib: *rss,
            }),
        }
    }
    paired
}

/// `VmRSS` of `pid` in KiB, `None` if the process is gone (or this is not Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

/// The `VmRSS:   12345 kB` line of a `/proc/<pid>/status`.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The direct children of `pid`, over all its threads.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut children: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    children.sort_unstable();
    children.dedup();
    children
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rss_line_of_a_status_file_is_read_in_kib() {
        let status = "Name:\tredis-server\nVmPeak:\t  99999 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn a_restarted_process_is_paired_by_its_name() {
        let before = vec![
            ("worker".to_string(), 10, Some(1000)),
            ("web".to_string(), 11, Some(2000)),
        ];
        let after = vec![
            ("worker".to_string(), 12, Some(1500)),
            ("web".to_string(), 11, Some(2100)),
            ("supervisor child 1".to_string(), 13, Some(700)),
        ];
        let paired = pair(&before, &after);
        assert_eq!(paired.len(), 3);
        assert_eq!(
            (paired[0].before_kib, paired[0].after_kib),
            (Some(1000), Some(1500))
        );
        assert_eq!(paired[2].process, "supervisor child 1");
        assert_eq!(
            (paired[2].before_kib, paired[2].after_kib),
            (None, Some(700))
        );
    }
}
