import CShims
import CellaAPI
import CellaErrors
import CellaSys
import Glibc

/// A connected unix socket with a read buffer: HTTP heads are read line by line from it, and what the
/// buffer holds past a 101's head is the start of the stream.
final class SocketReader {
  let fd: Int32
  var buffer: [UInt8] = []
  /// What the errors name: `GET /1.0/guests`.
  let what: String

  init(fd: Int32, what: String) {
    self.fd = fd
    self.what = what
  }

  /// Connects to the daemon's socket; a missing socket or one nobody listens on is the one-line
  /// "not running" error.
  static func connect(_ path: String, what: String) throws(APIError) -> SocketReader {
    guard path.utf8.count < cella_sun_path_size() else {
      throw APIError(.invalidArgument, "socket path \(path): longer than \(cella_sun_path_size() - 1) bytes")
    }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw APIError(.system, "socket: \(ErrorText.errno(errno))") }
    let rc = withSocketAddress(path) { Glibc.connect(fd, $0, $1) }
    if rc != 0 {
      let e = errno
      Glibc.close(fd)
      throw ClientErrors.connect(path: path, errno: e)
    }
    return SocketReader(fd: fd, what: what)
  }

  func writeAll(_ bytes: [UInt8]) throws(APIError) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
      if n < 0 {
        if errno == EINTR { continue }
        throw APIError(.system, "\(what): sending to the daemon: \(ErrorText.errno(errno))")
      }
      offset += n
    }
  }

  /// Reads once more into the buffer; false at end of file.
  @discardableResult
  func fill() throws(APIError) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 {
        if errno == EINTR { continue }
        throw APIError(.system, "\(what): reading from the daemon: \(ErrorText.errno(errno))")
      }
      buffer += chunk[0..<n]
      return n > 0
    }
  }

  /// One CRLF-terminated line without its terminator.
  func readLine() throws(APIError) -> String {
    while true {
      if let lf = buffer.firstIndex(of: 0x0a) {
        var line = Array(buffer[..<lf])
        buffer.removeFirst(lf + 1)
        if line.last == 0x0d { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      guard buffer.count < 64 << 10 else { throw truncated("a header line over 64 KiB") }
      guard try fill() else { throw truncated("the connection closed mid-answer") }
    }
  }

  func readExactly(_ count: Int) throws(APIError) -> [UInt8] {
    while buffer.count < count {
      guard try fill() else { throw truncated("the connection closed mid-body") }
    }
    let out = Array(buffer[..<count])
    buffer.removeFirst(count)
    return out
  }

  func readToEnd() throws(APIError) -> [UInt8] {
    while try fill() {}
    defer { buffer = [] }
    return buffer
  }

  func truncated(_ why: String) -> APIError {
    APIError(.system, "\(what): the daemon's answer is malformed: \(why)")
  }

  func close() { Glibc.close(fd) }
}

/// The client's own errors (the daemon's come in its envelope).
public enum ClientErrors {
  /// The command that starts the daemon, named in the not-running error.
  public static let startHint = "start it with \"cella daemon\""

  /// A connect failure as one line: the daemon is not running, or its socket may not be used.
  static func connect(path: String, errno e: Int32) -> APIError {
    switch e {
    case ENOENT, ENOTDIR:
      return APIError(.system, "the daemon is not running (no socket at \(path)): \(startHint)")
    case ECONNREFUSED:
      return APIError(.system, "the daemon is not running (nothing listens on \(path)): \(startHint)")
    case EACCES, EPERM:
      return APIError(.permission, "cannot connect to the daemon's socket \(path): \(ErrorText.errno(e))")
    default:
      return APIError(.system, "cannot connect to the daemon's socket \(path): \(ErrorText.errno(e))")
    }
  }
}
