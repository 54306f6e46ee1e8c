import CShims
import CellaErrors
import CellaSys
import Glibc

/// The daemon's socket file: made safe to bind (one daemon per socket) and bound with mode 0600.
enum SocketFile {
  /// Makes the parent directory (0700 when new), refuses when a daemon answers on `path`, and removes
  /// a stale socket nobody listens on.
  static func prepare(_ path: String) throws(DaemonError) {
    guard path.utf8.count < cella_sun_path_size() else {
      throw DaemonError(.invalidArgument, "socket path \(path): longer than \(cella_sun_path_size() - 1) bytes")
    }
    try makeParent(of: path)
    var st = stat()
    guard lstat(path, &st) == 0 else {
      if errno == ENOENT { return }
      throw DaemonError(.system, "socket \(path): \(ErrorText.errno(errno))")
    }
    guard st.st_mode & S_IFMT == S_IFSOCK else {
      throw DaemonError(.alreadyExists, "socket \(path): exists and is not a socket")
    }
    switch probe(path) {
    case .answered(let pid):
      throw DaemonError(.alreadyExists, "a daemon is already running on \(path)" + (pid.map { " (pid \($0))" } ?? ""))
    case .refused:
      guard unlink(path) == 0 || errno == ENOENT else {
        throw DaemonError(.system, "stale socket \(path): \(ErrorText.errno(errno))")
      }
    }
  }

  /// A listening socket bound at `path` whose file has mode 0600 from the start.
  static func bind(_ path: String, backlog: Int32 = 256) throws(DaemonError) -> Int32 {
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw DaemonError(.system, "socket \(path): \(ErrorText.errno(errno))") }
    // Linux gives the bound file the socket inode's mode: no moment with a wider mode than 0600.
    _ = fchmod(fd, 0o600)
    let rc = withSocketAddress(path) { Glibc.bind(fd, $0, $1) }
    guard rc == 0 else {
      let e = errno
      close(fd)
      throw DaemonError(ErrorKind.from(errno: e), "bind \(path): \(ErrorText.errno(e))")
    }
    guard chmod(path, 0o600) == 0, listen(fd, backlog) == 0 else {
      let e = errno
      close(fd)
      unlink(path)
      throw DaemonError(.system, "socket \(path): \(ErrorText.errno(e))")
    }
    return fd
  }

  /// Removes the socket file if it is still the one this daemon bound (same inode).
  static func remove(_ path: String, inode: ino_t) {
    var st = stat()
    if lstat(path, &st) == 0, st.st_ino == inode { unlink(path) }
  }

  static func inode(_ path: String) -> ino_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_ino : 0
  }

  enum Probe {
    case answered(pid: Int32?)
    case refused
  }

  /// Connects to `path`: a daemon accepts (its pid from SO_PEERCRED); a stale socket refuses.
  static func probe(_ path: String) -> Probe {
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return .refused }
    defer { close(fd) }
    guard withSocketAddress(path, { Glibc.connect(fd, $0, $1) }) == 0 else { return .refused }
    return .answered(pid: socketPeerPID(fd))
  }

  /// mkdir -p of the socket's directory; directories made here get 0700 (the API is root's only).
  private static func makeParent(of path: String) throws(DaemonError) {
    var components = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
    var current = path.hasPrefix("/") ? "" : "."
    while !components.isEmpty {
      current += "/" + components.removeFirst()
      if mkdir(current, 0o700) == 0 {
        _ = chmod(current, 0o700)
      } else if errno != EEXIST {
        throw DaemonError(ErrorKind.from(errno: errno), "socket directory \(current): \(ErrorText.errno(errno))")
      }
    }
  }
}
