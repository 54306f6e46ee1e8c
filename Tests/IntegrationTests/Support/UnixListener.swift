import Foundation
import Glibc

/// A unix stream socket the test listens on, receiving one message with an fd (SCM_RIGHTS) — what a
/// console socket or a seccomp notify listener gets from the runtime.
final class UnixListener {
  let path: String
  let fd: Int32

  init(path: String) throws {
    self.path = path
    unlink(path)
    fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      for (i, b) in Array(path.utf8).prefix(raw.count - 1).enumerated() { raw[i] = b }
    }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0, listen(fd, 1) == 0 else { throw HarnessError("bind \(path): \(String(cString: strerror(errno)))") }
  }

  deinit {
    close(fd)
    unlink(path)
  }

  /// Waits up to `timeout` seconds for one connection and returns (payload, passed fd or -1).
  func receive(timeout: Int32 = 10) -> (payload: [UInt8], fd: Int32)? {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, timeout * 1000) == 1 else { return nil }
    let conn = accept(fd, nil, nil)
    guard conn >= 0 else { return nil }
    defer { close(conn) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    var control = [UInt8](repeating: 0, count: 64)
    var passed: Int32 = -1
    let n = buffer.withUnsafeMutableBytes { buf -> Int in
      control.withUnsafeMutableBytes { ctl -> Int in
        var iov = iovec(iov_base: buf.baseAddress, iov_len: buf.count)
        return withUnsafeMutablePointer(to: &iov) { iovp -> Int in
          var msg = msghdr()
          msg.msg_iov = iovp
          msg.msg_iovlen = 1
          msg.msg_control = ctl.baseAddress
          msg.msg_controllen = ctl.count
          let r = recvmsg(conn, &msg, 0)
          // struct cmsghdr: size_t len; int level; int type; then the data.
          if r >= 0 && msg.msg_controllen >= 20 {
            let level = ctl.load(fromByteOffset: 8, as: Int32.self)
            let type = ctl.load(fromByteOffset: 12, as: Int32.self)
            if level == SOL_SOCKET && type == 1 /* SCM_RIGHTS */ {
              passed = ctl.load(fromByteOffset: 16, as: Int32.self)
            }
          }
          return r
        }
      }
    }
    guard n >= 0 else { return nil }
    return (Array(buffer[0..<n]), passed)
  }
}
