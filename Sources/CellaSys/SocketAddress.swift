import Glibc

/// Calls `body` with a sockaddr_un for `path` (cut at sun_path's size: callers that take a path from
/// outside check its length first, or bind through `/proc/self/fd/N/NAME`).
public func withSocketAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
  var addr = sockaddr_un()
  addr.sun_family = sa_family_t(AF_UNIX)
  let bytes = Array(path.utf8)
  withUnsafeMutableBytes(of: &addr.sun_path) { raw in
    for (i, b) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = b }
  }
  return withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
  }
}

/// The pid of the process at the other end of a connected unix socket (SO_PEERCRED), nil if unknown.
public func socketPeerPID(_ fd: Int32) -> Int32? {
  // struct ucred (pid, uid, gid): Glibc's module does not import it without _GNU_SOURCE.
  var cred: [Int32] = [0, 0, 0]
  var len = socklen_t(MemoryLayout<Int32>.size * 3)
  guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, cred[0] > 0 else { return nil }
  return cred[0]
}
