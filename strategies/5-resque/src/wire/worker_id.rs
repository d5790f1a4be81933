//! How workers are named on the wire. A worker's *name* is `host:pid` (a MultiWorker slot:
//! `host:pid+N`); its *id*, the member of the `workers` set, is `NAME:QUEUES`
//! (`box:42:high,low`). Ruby's and node-resque's tools split ids on `:`, and the scheduler
//! tells a dead local worker by the pid in its name, so both parts matter.

/// This machine's host name, the first part of every worker name (`host:pid`).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// node-resque's default name: `hostname:pid`.
pub fn default_name() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

/// Who a registered worker is: `host:pid` and the queues it works.
pub fn split_worker_id(id: &str) -> (String, String) {
    let mut parts = id.splitn(3, ':');
    let host = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (Some(pid), Some(queues)) => (format!("{host}:{pid}"), queues.to_owned()),
        (Some(queues), None) => (host.to_owned(), queues.to_owned()),
        _ => (host.to_owned(), String::new()),
    }
}
