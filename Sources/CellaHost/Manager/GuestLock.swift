import CellaSys
import Glibc

/// The per-guest lock (`guests/NAME/lock`): every operation that changes a guest holds it, so two
/// concurrent `cella start x` start it once. flock locks belong to the open file, so two threads of
/// the daemon exclude each other as two processes would.
struct GuestLock: ~Copyable {
  private let fd: Int32

  /// Blocks until the lock is ours.
  init(_ paths: GuestPaths) throws(HostError) {
    let fd = open(paths.lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
    if fd < 0 { throw HostError("lock", path: paths.lock, errno: errno) }
    while flock(fd, LOCK_EX) != 0 {
      if errno == EINTR { continue }
      let e = errno
      close(fd)
      throw HostError("lock", path: paths.lock, errno: e)
    }
    self.fd = fd
  }

  deinit { close(fd) }
}
