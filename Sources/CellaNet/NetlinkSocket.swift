import CShims
import CellaErrors
import CellaSys
import Glibc
import Synchronization

/// A NETLINK_ROUTE socket in one network namespace; any thread may use it (requests take turns).
public final class NetlinkSocket: Sendable {
  private struct State {
    let fd: Int32
    var sequence: UInt32
  }

  private let state: Mutex<State>
  /// How long a request waits for the kernel's answer before it fails.
  public let timeoutMilliseconds: Int32
  /// Largest datagram read at once: the kernel caps a dump's part at 32 KiB.
  private static let receiveSize = 65536
  /// How often a dump the kernel marks as interrupted (the table changed meanwhile) is restarted.
  private static let dumpAttempts = 3

  /// Takes ownership of `fd`, a NETLINK_ROUTE socket.
  init(adopting fd: Int32, timeoutMilliseconds: Int32) {
    // Extended acks add the kernel's reason to an error; capped acks leave the request out of it.
    // Both are optional (older kernels lack them), so failures are ignored.
    var on: Int32 = 1
    _ = setsockopt(fd, Netlink.solNetlink, Netlink.extAck, &on, socklen_t(MemoryLayout<Int32>.size))
    _ = setsockopt(fd, Netlink.solNetlink, Netlink.capAck, &on, socklen_t(MemoryLayout<Int32>.size))
    self.state = Mutex(State(fd: fd, sequence: 0))
    self.timeoutMilliseconds = timeoutMilliseconds
  }

  deinit { state.withLock { _ = close($0.fd) } }

  /// A socket in the calling thread's network namespace.
  public static func open(timeoutMilliseconds: Int32 = 5000) throws(NetError) -> NetlinkSocket {
    let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.protocolRoute)
    if fd < 0 { throw NetError("netlink socket", errno: errno) }
    return NetlinkSocket(adopting: fd, timeoutMilliseconds: timeoutMilliseconds)
  }

  /// Sends `request` and returns the kernel's answers to it: the messages of a dump, or those before
  /// the acknowledgement; an error answer throws, naming the request.
  func perform(_ request: NetlinkRequest) throws(NetError) -> [NetlinkReply] {
    try state.withLock { (state: inout State) throws(NetError) -> [NetlinkReply] in
      for _ in 1..<Self.dumpAttempts {
        state.sequence &+= 1
        let answer = try exchange(request, fd: state.fd, sequence: state.sequence)
        if !answer.interrupted { return answer.replies }
      }
      state.sequence &+= 1
      return try exchange(request, fd: state.fd, sequence: state.sequence).replies
    }
  }

  private func exchange(_ request: NetlinkRequest, fd: Int32, sequence: UInt32) throws(NetError) -> (
    replies: [NetlinkReply], interrupted: Bool
  ) {
    let bytes = request.encoded(sequence: sequence)
    while bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) < 0 {
      if errno != EINTR { throw NetError("\(request.step): send", errno: errno) }
    }
    let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
    var buffer = [UInt8](repeating: 0, count: Self.receiveSize)
    var replies: [NetlinkReply] = []
    var interrupted = false
    while true {
      let left = ContinuousClock.now.duration(to: deadline).components
      let wait = Int32(clamping: max(0, left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000))
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, wait)
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 { throw NetError("\(request.step): poll", errno: errno) }
      if ready == 0 {
        throw NetError(.system, "\(request.step): no answer from the kernel within \(timeoutMilliseconds) ms")
      }
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
      if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      if n < 0 { throw NetError("\(request.step): receive", errno: errno) }
      // Answers to an earlier request that timed out carry another sequence number and are skipped.
      for reply in NetlinkReply.split(Array(buffer[0..<n])) where reply.sequence == sequence {
        if reply.flags & Netlink.Flag.dumpInterrupted != 0 { interrupted = true }
        if let (code, text) = reply.errorAnswer {
          if code == 0 { return (replies, interrupted) }
          throw NetError(request.step, errno: code, kernelText: text)
        }
        if reply.type == Netlink.Message.done {
          let code = NetlinkBytes.read(Int32.self, reply.payload[...], at: 0) ?? 0
          if code < 0 { throw NetError(request.step, errno: -code, kernelText: nil) }
          return (replies, interrupted)
        }
        if reply.type != Netlink.Message.noop { replies.append(reply) }
      }
    }
  }
}

extension NetError {
  /// A refused netlink request: the errno's kind, the step, and the kernel's own reason when it gave one.
  init(_ step: String, errno code: Int32, kernelText: String?) {
    let reason = kernelText.flatMap { $0.isEmpty ? nil : " (\($0))" } ?? ""
    self.init(ErrorKind.from(errno: code), "\(step): \(ErrorText.errno(code))\(reason)")
  }
}
