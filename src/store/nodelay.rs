//! TCP_NODELAY on the connections to PostgreSQL.
//!
//! sqlx 0.9.0 opens its TCP connections without TCP_NODELAY (upstream
//! transact-rs/sqlx#4335, fixed after 0.9.0), so a message written in more
//! than one segment — an upload's bytes, a batch of rows — waits for the
//! server's delayed acknowledgement: ~40 ms a statement. Measured on the
//! benchmark's 100-town ingest through TCP: 50 ms an upload stored, against
//! 12 ms over the server's Unix socket. sqlx gives no access to its socket, so
//! once a connection is made, every TCP socket of this process whose peer is
//! the server's port gets TCP_NODELAY (a socket that already has it, or another
//! connection to that port, is unharmed: the option only sends segments
//! without waiting). Remove when sqlx sets it again.

/// Sets TCP_NODELAY on every TCP socket of this process connected to `port`;
/// returns how many it set. Anything that is not such a socket (a file, a
/// listener, a socket closed meanwhile) is left alone.
#[cfg(target_os = "linux")]
pub fn on_sockets_to(port: u16) -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::c_int>().ok())
        .filter(|&fd| peer_port(fd) == Some(port) && set_nodelay(fd))
        .count()
}

#[cfg(not(target_os = "linux"))]
pub fn on_sockets_to(_port: u16) -> usize {
    0
}

/// The peer port of `fd` when it is a connected TCP stream over IPv4 or IPv6.
#[cfg(target_os = "linux")]
fn peer_port(fd: libc::c_int) -> Option<u16> {
    let mut kind: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `kind` and `len` are valid for writes of the sizes given; a
    // descriptor that is not a socket makes the call fail, nothing else.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r != 0 || kind != libc::SOCK_STREAM {
        return None;
    }
    // SAFETY: a zeroed sockaddr_storage is a valid value of it.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` and `len` are valid for writes of the size given.
    let r = unsafe {
        libc::getpeername(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return None;
    }
    // The port sits at the same offset in sockaddr_in and sockaddr_in6.
    match libc::c_int::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a =
                unsafe { &*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(u16::from_be(a.sin6_port))
        }
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn set_nodelay(fd: libc::c_int) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: `on` is valid for reads of the size given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn the_sockets_to_the_port_get_nodelay_and_no_other() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let to_server = TcpStream::connect(server.local_addr().unwrap()).unwrap();
        let to_other = TcpStream::connect(other.local_addr().unwrap()).unwrap();
        let (accepted, _) = server.accept().unwrap();
        for s in [&to_server, &to_other, &accepted] {
            s.set_nodelay(false).unwrap();
        }
        assert!(super::on_sockets_to(port) >= 1);
        assert!(to_server.nodelay().unwrap());
        // Not connected to the port: the other connection, and the server's
        // end (its peer is the client's port).
        assert!(!to_other.nodelay().unwrap());
        assert!(!accepted.nodelay().unwrap());
    }
}
