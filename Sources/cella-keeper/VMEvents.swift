import Glibc

/// A VM guest's QMP event monitor, kept by the keeper so that how the guest ended is known even when
/// no daemon runs: QEMU connects to the keeper's socket at start, the keeper enters command mode and
/// reads events; the last SHUTDOWN's reason (or a GUEST_PANICKED) goes into exit.json.
///
/// Its own monitor, apart from the daemon's QMP socket: a QEMU socket serves one client at a time.
struct VMEvents {
  private(set) var listener: Int32 = -1
  private(set) var connection: Int32 = -1
  private var buffer: [UInt8] = []
  /// `guest-shutdown`, `guest-reset`, `guest-panic`, `host-qmp-quit`, … as QEMU names it.
  private(set) var reason: String?

  /// The longest line kept: QMP events are short, and a guest cannot make QEMU send long ones here.
  static let maxLine = 64 << 10

  /// Listens on `name` (relative to the guest dir) for QEMU's connection; QEMU runs as the jail's uid.
  init(listening name: String) throws(KeeperError) {
    listener = try Sockets.listen(name)
    if chmod(name, 0o666) != 0 { throw KeeperError("chmod \(name): \(describe(errno))") }
  }

  /// The fd to poll: the listener until QEMU connects, then the connection.
  var pollFD: Int32 { connection >= 0 ? connection : listener }

  /// Accepts QEMU or reads what it sent, whichever is due.
  mutating func service() {
    if connection < 0 {
      let fd = Sockets.accept(listener)
      guard fd >= 0 else { return }
      connection = fd
      close(listener)
      listener = -1
      let hello = Array("{\"execute\":\"qmp_capabilities\"}\n".utf8)
      // Non-blocking, but an empty socket buffer takes these few bytes whole; SIGPIPE is ignored.
      _ = writeAll(fd, hello)
      return
    }
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
      if n > 0 {
        buffer += chunk[0..<n]
        takeLines()
        continue
      }
      if n < 0 && errno == EINTR { continue }
      if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
        close(connection)
        connection = -1
        listener = -1
      }
      return
    }
  }

  /// Whether there is anything left to poll (QEMU closed its end once it ended).
  var isOpen: Bool { connection >= 0 || listener >= 0 }

  private mutating func takeLines() {
    while let end = buffer.firstIndex(of: 10) {
      let line = String(decoding: buffer[..<end], as: UTF8.self)
      buffer.removeSubrange(...end)
      note(line)
    }
    if buffer.count > Self.maxLine { buffer.removeAll() }
  }

  /// Keeps what an event says about the end of the run. A panic wins over the shutdown it causes.
  mutating func note(_ line: String) {
    guard let event = Self.stringField("event", in: line) else { return }
    switch event {
    case "GUEST_PANICKED": reason = "guest-panic"
    case "SHUTDOWN" where reason != "guest-panic": reason = Self.stringField("reason", in: line) ?? reason
    default: break
    }
  }

  /// The string value of `"name": "value"` in a QMP line (QEMU writes its own words there, no escapes).
  static func stringField(_ name: String, in line: String) -> String? {
    let bytes = Array(line.utf8)
    let key = Array("\"\(name)\"".utf8)
    guard bytes.count > key.count else { return nil }
    for start in 0...(bytes.count - key.count) where bytes[start..<start + key.count].elementsEqual(key) {
      var i = start + key.count
      func skipSpaces() { while i < bytes.count && bytes[i] == 0x20 { i += 1 } }
      skipSpaces()
      guard i < bytes.count, bytes[i] == 0x3a else { continue }
      i += 1
      skipSpaces()
      guard i < bytes.count, bytes[i] == 0x22 else { continue }
      i += 1
      let from = i
      while i < bytes.count && bytes[i] != 0x22 { i += 1 }
      let value = bytes[from..<min(i, bytes.count)]
      let word = value.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
      }
      guard i < bytes.count, !value.isEmpty, value.count <= 64, word else { return nil }
      return String(decoding: value, as: UTF8.self)
    }
    return nil
  }
}
