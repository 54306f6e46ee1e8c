import CellaAPI
import Glibc

/// One attached console client on keeper.sock: frames in (stdin, resize), frames out (stdout, exit).
final class Client {
  /// Output a client may leave unread before it is dropped: a slow reader must never stall the guest.
  static let maxPending = 256 << 10

  let fd: Int32
  /// Received bytes not yet forming a whole frame.
  var inbox: [UInt8] = []
  /// Encoded frames the socket has not taken yet.
  private(set) var outbox: [UInt8] = []

  init(fd: Int32) { self.fd = fd }

  deinit { close(fd) }

  var hasPending: Bool { !outbox.isEmpty }

  /// Queues a frame and sends what the socket takes now; false when the client has fallen too far behind
  /// or its connection failed (drop it).
  func send(_ frame: [UInt8]) -> Bool {
    outbox.append(contentsOf: frame)
    return flush() && outbox.count <= Self.maxPending
  }

  /// Sends queued bytes without blocking; false when the connection failed.
  func flush() -> Bool {
    var sent = 0
    while sent < outbox.count {
      let n = outbox.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
      if n > 0 {
        sent += n
        continue
      }
      if n < 0 && errno == EINTR { continue }
      if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
      return false
    }
    if sent > 0 { outbox.removeFirst(sent) }
    return true
  }

  /// Reads what the socket has into `scratch` and decodes whole frames; nil when the client hung up or
  /// broke the protocol (drop it).
  func receive(into scratch: UnsafeMutableRawBufferPointer) -> [StreamFrame]? {
    let n = recv(fd, scratch.baseAddress, scratch.count, 0)
    if n == 0 { return nil }
    if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? [] : nil }
    inbox.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
    var frames: [StreamFrame] = []
    var used = 0
    while true {
      switch StreamFrame.decode(inbox[used...]) {
      case .frame(let frame, let consumed):
        frames.append(frame)
        used += consumed
        continue
      case .incomplete: break
      case .invalid: return nil
      }
      break
    }
    if used > 0 { inbox.removeFirst(used) }
    return frames
  }
}
