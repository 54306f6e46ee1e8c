import CellaSys
import Glibc

/// An exclusive flock on a lock file, held while `body` runs. Each call opens the file anew, so
/// threads of one process exclude each other as well as other processes do.
enum FileLock {
  static func withLock<T>(_ path: String, _ body: () throws(HostError) -> T) throws(HostError) -> T {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
    if fd < 0 { throw HostError("open lock", path: path, errno: errno) }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      if errno != EINTR { throw HostError("lock", path: path, errno: errno) }
    }
    return try body()
  }
}
