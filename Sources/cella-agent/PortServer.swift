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
        try PortIO.send(fd, AgentProtocol.ackMagic + nonce)
        var decoder = AgentFrameDecoder()
        decoder.feed(rest)
        let request = try readExec(fd, &decoder)
        var session = PortSession(port: fd, config: config, request: request, decoder: decoder)
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

  private func readExec(_ fd: Int32, _ decoder: inout AgentFrameDecoder) throws(Disconnected) -> AgentExecRequest {
    while true {
      do {
        if let frame = try decoder.next() {
          if case .exec(let request) = frame { return request }
          continue
        }
      } catch {
        try? PortIO.send(fd, AgentFrame.error(status: 126, message: error.message).encoded())
        throw Disconnected()
      }
      decoder.feed(try PortIO.receive(fd))
    }
  }
}

/// Reads and writes on a non-blocking port fd whose host may vanish at any moment.
enum PortIO {
  /// Writes all of `bytes`, waiting while the port is full; a vanished host ends the session.
  static func send(_ fd: Int32, _ bytes: [UInt8]) throws(PortServer.Disconnected) {
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
      if p.revents & Int16(POLLHUP | POLLERR) != 0 { throw PortServer.Disconnected() }
    }
  }

  /// Blocks until bytes arrive; throws when the host is gone and nothing is left.
  static func receive(_ fd: Int32) throws(PortServer.Disconnected) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: AgentProtocol.chunkSize)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 { return Array(buffer[0..<n]) }
      if n == 0 || (errno != EAGAIN && errno != EINTR) { throw PortServer.Disconnected() }
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      _ = poll(&p, 1, -1)
      if p.revents & Int16(POLLIN) == 0 && p.revents & Int16(POLLHUP | POLLERR) != 0 {
        throw PortServer.Disconnected()
      }
    }
  }
}
