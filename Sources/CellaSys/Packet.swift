import CShims
import Glibc

/// One end of a SOCK_SEQPACKET socketpair: whole messages, EOF when the peer is gone.
///
/// A copyable view on a raw fd, not a `FileDescriptor`: its ends cross clone/fork into the child as
/// plain numbers, so each process closes its end explicitly with `close()`.
public struct Packet: Sendable {
  public let fd: Int32

  public init(fd: Int32) { self.fd = fd }

  /// Creates a connected pair; both ends are close-on-exec.
  public static func pair() throws(SysError) -> (Packet, Packet) {
    var fds: [Int32] = [0, 0]
    try sys("socketpair") {
      socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return (Packet(fd: fds[0]), Packet(fd: fds[1]))
  }

  /// Sends one message, optionally carrying a file descriptor.
  public func send(_ bytes: [UInt8], fd passing: Int32 = -1) throws(SysError) {
    let n = bytes.withUnsafeBytes { cella_send_with_fd(fd, $0.baseAddress, $0.count, passing) }
    if n < 0 { throw SysError("sendmsg") }
  }

  /// Receives one message; nil at EOF. `fd` holds a passed descriptor or -1.
  public func receive(maxSize: Int = 65536) throws(SysError) -> (bytes: [UInt8], fd: Int32)? {
    var buf = [UInt8](repeating: 0, count: maxSize)
    var passed: Int32 = -1
    let n = buf.withUnsafeMutableBytes { cella_recv_with_fd(fd, $0.baseAddress, $0.count, &passed) }
    if n < 0 { throw SysError("recvmsg") }
    if n == 0 { return nil }
    return (Array(buf[0..<n]), passed)
  }

  /// Closes this end.
  public func close() { _ = Glibc.close(fd) }
}

extension Packet {
  /// A new unconnected SOCK_SEQPACKET unix socket (close-on-exec), or -1.
  public static func socket() -> Int32 {
    Glibc.socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
  }
}
