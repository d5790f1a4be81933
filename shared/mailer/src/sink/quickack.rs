//! The 40 ms lesson.
//!
//! lettre (0.11.23) writes a message body and the closing `\r\n.\r\n` as two separate
//! writes, and does not set `TCP_NODELAY`. Nagle's algorithm then holds the 5-byte
//! terminator back until the body is acknowledged, and Linux delays that ACK by up to
//! ~40 ms hoping to piggyback it on a reply. The reply cannot come before the terminator:
//! each message stalls ~40 ms for nothing. Measured against this sink: p50 44 ms per send
//! without the workaround, 1.5 ms with it (`cargo bench -p benches --bench mailer`).
//!
//! The fix belongs in the client (`TCP_NODELAY`), but we do not own the client. The server
//! side can ACK at once instead: `TCP_QUICKACK`. The kernel clears the flag again after it
//! is used, so it has to be set after every read.

use std::os::fd::AsRawFd;

/// Asks the kernel to acknowledge received data at once on this socket (Linux only; a
/// no-op elsewhere). Failing to set it only costs latency, so errors are ignored.
pub fn enable(socket: &impl AsRawFd) {
    #[cfg(target_os = "linux")]
    {
        let one: libc::c_int = 1;
        // SAFETY: a valid fd and a pointer to a c_int of the length we pass.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}
