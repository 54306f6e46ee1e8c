import CShims
import CellaAPI
import CellaClient
import CellaErrors
import Glibc

/// The local side of an exec or console stream: stdin to `.stdin` frames, frames to stdout/stderr,
/// SIGWINCH to `.resize`, until the `.exit` frame.
struct StreamSession {
  /// Ctrl-a: the console's escape key; Ctrl-a q detaches, Ctrl-a a sends a Ctrl-a.
  static let escapeKey: UInt8 = 0x01
  static let detachKey = UInt8(ascii: "q")

  /// Forward the local stdin (else it is not read).
  var forwardStdin = true
  /// Put the local terminal in raw mode and send its size (when stdin is a terminal).
  var terminal = false
  /// Ctrl-a q ends the session (console).
  var detachable = false

  /// How the session ended.
  enum End {
    case exit([UInt8])
    case detached
  }

  func run(_ stream: StreamConnection) throws(APIError) -> End {
    let raw = terminal && Terminal.isTerminal(0) && Terminal.makeRaw(0)
    defer { if raw { Terminal.restore() } }
    let winch = raw ? Terminal.watchResizes() : -1
    defer { if winch >= 0 { close(winch) } }
    if raw, let size = Terminal.size() { try stream.send(.resize(rows: size.rows, cols: size.cols)) }

    var stdinOpen = forwardStdin
    var escaped = false
    if let end = try deliver(stream.bufferedFrames()) { return end }
    var buffer = [UInt8](repeating: 0, count: 32 << 10)
    while true {
      var fds = [pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0)]
      if stdinOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
      if winch >= 0 { fds.append(pollfd(fd: winch, events: Int16(POLLIN), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        throw APIError(.system, "poll: \(ErrorText.errno(errno))")
      }
      for pfd in fds where pfd.revents != 0 {
        if pfd.fd == stream.fd {
          guard let frames = try stream.readFrames() else {
            throw APIError(.system, "the daemon closed the stream without an exit status")
          }
          if let end = deliver(frames) { return end }
        } else if pfd.fd == 0 {
          let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
          if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
          if n <= 0 {
            stdinOpen = false
            try stream.send(StreamFrame(.stdinClosed))
            continue
          }
          var bytes = Array(buffer[0..<n])
          if detachable {
            guard let filtered = Self.filterEscape(bytes, escaped: &escaped) else { return .detached }
            bytes = filtered
          }
          if !bytes.isEmpty { try stream.send(StreamFrame(.stdin, bytes)) }
        } else {
          var drain = [UInt8](repeating: 0, count: 64)
          _ = read(winch, &drain, drain.count)
          if let size = Terminal.size() { try stream.send(.resize(rows: size.rows, cols: size.cols)) }
        }
      }
    }
  }

  /// Writes output frames; the exit frame's payload ends the session.
  private func deliver(_ frames: [StreamFrame]) -> End? {
    for frame in frames {
      switch frame.kind {
      case .stdout: Output.write(frame.payload, to: 1)
      case .stderr: Output.write(frame.payload, to: 2)
      case .exit: return .exit(frame.payload)
      case .stdin, .resize, .stdinClosed: continue
      }
    }
    return nil
  }

  /// Takes the escape sequences out of typed bytes; nil when Ctrl-a q was typed.
  static func filterEscape(_ bytes: [UInt8], escaped: inout Bool) -> [UInt8]? {
    var out = [UInt8]()
    for byte in bytes {
      if escaped {
        escaped = false
        if byte == detachKey { return nil }
        out.append(escapeKey)
        if byte != UInt8(ascii: "a") { out.append(byte) }
      } else if byte == escapeKey {
        escaped = true
      } else {
        out.append(byte)
      }
    }
    return out
  }
}
