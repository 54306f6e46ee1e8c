import CShims
import CellaSys
import Glibc

/// Unix stream sockets by a short relative name (the keeper's cwd is the guest dir).
enum Sockets {
  /// A non-blocking, close-on-exec listener bound to `name` (a stale file of that name is replaced),
  /// reachable by its owner only.
  static func listen(_ name: String) throws(KeeperError) -> Int32 {
    unlink(name)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
    if fd < 0 { throw KeeperError("socket for \(name): \(describe(errno))") }
    let rc = withSocketAddress(name) { bind(fd, $0, $1) }
    if rc != 0 { throw KeeperError("bind \(name): \(describe(errno))") }
    if chmod(name, 0o600) != 0 { throw KeeperError("chmod \(name): \(describe(errno))") }
    if Glibc.listen(fd, 16) != 0 { throw KeeperError("listen \(name): \(describe(errno))") }
    return fd
  }

  /// A waiting connection (non-blocking, close-on-exec), or -1 when there is none.
  static func accept(_ listener: Int32) -> Int32 {
    cella_accept4(listener, Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue))
  }

  /// Waits up to `milliseconds` for `fd` to become readable.
  static func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
      let n = poll(&p, 1, milliseconds)
      if n < 0 && errno == EINTR { continue }
      return n > 0
    }
  }
}

/// The lowercase text of an errno value.
func describe(_ code: Int32) -> String {
  guard let text = strerror(code) else { return "errno \(code)" }
  var s = String(cString: text)
  if let first = s.first, first.isUppercase { s = first.lowercased() + s.dropFirst() }
  return s
}

/// Writes all of `bytes` to a blocking fd; false on an error.
@discardableResult
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
  var off = 0
  while off < bytes.count {
    let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return false }
    off += n
  }
  return true
}
