import CShims
import CellaSys
import CellaVM
import Glibc

/// The guest side of one exec port: waits for a host's hello, runs one command per session, relays its stdio as
/// frames, and resets when the host goes away (killing the session's process group).
struct PortServer {
  let port: Int
  let config: GuestBootConfig

  /// The host went away (the port reports POLLHUP) or the port failed.
  struct Disconnected: Error {}

  func run() -> Never {
    // Input for a command that already exited meets a closed pipe: that is EPIPE for the session, not a server
    // killed before it sends the exit frame (its command gets the default back in GuestProcess).
    signal(SIGPIPE, SIG_IGN)
    let name = AgentProtocol.portName(port)
    // Ports appear a little after virtio_console loads (the host announces them through its control queue).
    var path = PortDevice.path(named: name)
    var waited = 0
    while path == nil {
      usleep(waited < 5000 ? 50_000 : 1_000_000)
      waited += 50
      path = PortDevice.path(named: name)
    }
    let fd = open(path!, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
    if fd < 0 { _exit(1) }
    // The port raises SIGIO when the host connects; it is waited for with sigtimedwait, never delivered.
    var mask = sigset_t()
    cella_sigset_empty(&mask)
    cella_sigset_add(&mask, SIGIO)
    sigprocmask(SIG_BLOCK, &mask, nil)
    _ = cella_fcntl(fd, F_SETOWN, getpid())
    _ = cella_fcntl(fd, F_SETFL, cella_fcntl(fd, F_GETFL, 0) | O_ASYNC)
    while true {
      guard let (nonce, rest) = waitForHello(fd, sigio: mask) else { continue }
      do throws(Disconnected) {
        var link = PortLink(fd: fd)
        try link.send(AgentProtocol.ackMagic + nonce)
        var decoder = AgentFrameDecoder()
        decoder.feed(rest)
        let request = try readExec(&link, &decoder)
        var session = PortSession(link: link, config: config, request: request, decoder: decoder)
        try session.run()
      } catch {}
    }
  }

  /// Skips bytes until a hello and returns its nonce and what followed; nil when the host went away first.
  private func waitForHello(_ fd: Int32, sigio: sigset_t) -> ([UInt8], [UInt8])? {
    var sync = AgentSync(pattern: AgentProtocol.helloMagic)
    var afterMagic: [UInt8]? = nil
    var buffer = [UInt8](repeating: 0, count: 4096)
    var mask = sigio
    while true {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      _ = poll(&p, 1, 1000)
      if p.revents & Int16(POLLIN) != 0 {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
          if var got = afterMagic {
            got += buffer[0..<n]
            afterMagic = got
          } else {
            afterMagic = sync.feed(buffer[0..<n])
          }
          if let got = afterMagic, got.count >= AgentProtocol.nonceSize {
            return (Array(got.prefix(AgentProtocol.nonceSize)), Array(got.dropFirst(AgentProtocol.nonceSize)))
          }
          continue
        }
      }
      if p.revents & Int16(POLLHUP) != 0 {
        if afterMagic != nil { return nil }
        // No host: sleep until one connects (SIGIO), checking again every second in case the signal was missed.
        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        _ = sigtimedwait(&mask, nil, &timeout)
      }
    }
  }

  private func readExec(_ link: inout PortLink, _ decoder: inout AgentFrameDecoder) throws(Disconnected)
    -> AgentExecRequest
  {
    while true {
      do {
        if let frame = try decoder.next() {
          if case .exec(let request) = frame { return request }
          continue
        }
      } catch {
        try? link.send(AgentFrame.error(status: 126, message: error.message).encoded())
        throw Disconnected()
      }
      decoder.feed(try link.receive())
    }
  }
}

/// One session's side of a non-blocking port fd whose host may vanish at any moment.
///
/// virtio_console learns that a host connected through its control queue, which the guest may process after the
/// host's first bytes arrived: until the host has been seen connected, a hang-up is believed only after a grace
/// period.
struct PortLink {
  let fd: Int32
  private var seen = false
  private var hangupSince: timespec? = nil
  static let graceMilliseconds = 2000

  init(fd: Int32) { self.fd = fd }

  /// Whether poll's `revents` mean the host is gone; false also while a fresh session waits for its connection.
  mutating func hostGone(_ revents: Int16) -> Bool {
    guard revents & Int16(POLLHUP | POLLERR) != 0 else {
      seen = true
      hangupSince = nil
      return false
    }
    if seen { return true }
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    guard let since = hangupSince else {
      hangupSince = now
      return false
    }
    let elapsed = (Int(now.tv_sec) - Int(since.tv_sec)) * 1000 + (Int(now.tv_nsec) - Int(since.tv_nsec)) / 1_000_000
    if elapsed > Self.graceMilliseconds { return true }
    // POLLHUP makes poll return at once: do not spin while waiting.
    usleep(10_000)
    return false
  }

  /// Writes all of `bytes`, waiting while the port is full; a vanished host ends the session.
  mutating func send(_ bytes: [UInt8]) throws(PortServer.Disconnected) {
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
      if n > 0 {
        off += n
        continue
      }
      if n < 0 && errno != EAGAIN && errno != EINTR { throw PortServer.Disconnected() }
      var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      _ = poll(&p, 1, 1000)
      if p.revents & Int16(POLLOUT) == 0 && hostGone(p.revents) { throw PortServer.Disconnected() }
    }
  }

  /// Blocks until bytes arrive; throws when the host is gone and nothing is left.
  mutating func receive() throws(PortServer.Disconnected) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: AgentProtocol.chunkSize)
    while true {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      _ = poll(&p, 1, 1000)
      if p.revents & Int16(POLLIN) != 0 {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { return Array(buffer[0..<n]) }
        if n < 0 && errno != EAGAIN && errno != EINTR { throw PortServer.Disconnected() }
      } else if hostGone(p.revents) {
        throw PortServer.Disconnected()
      }
    }
  }
}
