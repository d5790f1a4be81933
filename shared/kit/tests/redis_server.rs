//! The redis-server launcher against the real binary.

use kit::redis_server::ping;
use kit::{Fsync, RedisOptions, RedisServer};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// Sends one inline command and returns the first reply line.
fn command(port: u16, line: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    reply.trim_end().to_string()
}

#[test]
fn starts_on_a_free_port_and_is_killed_on_drop() {
    let server = RedisServer::start().unwrap();
    let port = server.port();
    assert!(ping(port));
    assert_eq!(server.url(), format!("redis://127.0.0.1:{port}/"));
    drop(server);
    assert!(!ping(port), "the server outlived its handle");
}

#[test]
fn two_servers_run_side_by_side() {
    let a = RedisServer::start().unwrap();
    let b = RedisServer::start().unwrap();
    assert_ne!(a.port(), b.port());
    command(a.port(), "SET where a");
    assert_eq!(command(b.port(), "EXISTS where"), ":0");
}

/// The harness's Redis: synced once a second, and stopped with SIGTERM, which writes and
/// syncs the file before Redis exits, so nothing it acknowledged is lost by a restart.
#[test]
fn a_restart_keeps_acknowledged_writes_when_the_file_is_synced_once_a_second() {
    let mut server = RedisServer::start_with(RedisOptions {
        aof: true,
        fsync: Fsync::EverySecond,
        ..RedisOptions::default()
    })
    .unwrap();
    let port = server.port();
    for n in 1..=100 {
        assert_eq!(command(port, "RPUSH jobs one"), format!(":{n}"));
    }
    server.restart().unwrap();
    assert_eq!(command(port, "LLEN jobs"), ":100");
    // And it is the setting asked for: the last line of `*2 $11 appendfsync $8 everysec`.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"CONFIG GET appendfsync\r\n").unwrap();
    let lines: Vec<String> = BufReader::new(stream)
        .lines()
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("everysec"),
        "{lines:?}"
    );
}

#[test]
fn restart_with_aof_keeps_acknowledged_writes() {
    let mut server = RedisServer::start_with(RedisOptions {
        aof: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let port = server.port();
    assert_eq!(command(port, "RPUSH jobs one"), ":1");
    server.kill(); // no chance to flush anything more: only what was fsynced survives
    assert!(!ping(port));
    server.restart().unwrap();
    assert_eq!(server.port(), port);
    assert_eq!(command(port, "LLEN jobs"), ":1");
}

#[test]
fn restart_without_aof_loses_everything() {
    let mut server = RedisServer::start().unwrap();
    command(server.port(), "RPUSH jobs one");
    server.restart().unwrap();
    assert_eq!(command(server.port(), "LLEN jobs"), ":0");
}

/// The process group in `/proc/PID/stat` (the field after the state).
fn process_group(pid: u32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // `pid (comm) state ppid pgrp ...`; comm may hold spaces, so start after its ')'.
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    after_comm.split(' ').nth(2).unwrap().parse().unwrap()
}

#[test]
fn the_server_is_not_in_its_parents_process_group() {
    // A terminal's Ctrl-C reaches the whole foreground group: the strategy must get it, and
    // stop its private Redis itself, after its workers finished with it.
    let server = RedisServer::start().unwrap();
    let pid = server.pid().unwrap();
    assert_eq!(process_group(pid), pid as i32, "a group of its own");
    assert_ne!(process_group(pid), process_group(std::process::id()));
}
