import CellaErrors
import CellaSys
import Glibc
import Synchronization

/// A QMP client on QEMU's unix socket: the greeting, `qmp_capabilities`, commands matched to their
/// replies by id, and the events that arrive in between, queued for `waitForEvent`.
///
/// Blocking with deadlines (poll), not async: the daemon runs its guest work on a thread pool and never
/// forks in Swift, so a call that blocks one pool thread for at most its timeout is the simplest thing
/// that works, and it needs no event loop. The class is Sendable: one mutex serialises calls, so a
/// command issued while another thread waits for an event runs once that wait ends.
public final class QMPClient: Sendable {
  /// The longest QMP line accepted by default; a longer one is refused rather than buffered.
  public static let defaultMaxLineBytes = 1 << 20
  /// How many unread events are kept; older ones are dropped first so a chatty guest cannot grow memory.
  public static let maxQueuedEvents = 1024

  /// The socket's path, as messages name it.
  public let path: String
  /// The greeting's `QMP` member (`version`, `capabilities`).
  public let greeting: QMPValue
  private let connection: Mutex<QMPConnection>

  /// Connects to QEMU's QMP socket at `path` (through its directory's fd when the path is longer than a
  /// socket address holds), reads the greeting and enters command mode, each within `timeout` seconds.
  public static func connect(path: String, timeout: Double = 10, maxLineBytes: Int = defaultMaxLineBytes)
    throws(VMError) -> QMPClient
  {
    let fd = try connectSocket(path)
    return try QMPClient(adopting: fd, path: path, timeout: timeout, maxLineBytes: maxLineBytes)
  }

  /// Takes over a connected stream socket `fd` (closed with the client, also when this throws), reads the
  /// greeting and sends `qmp_capabilities`; `path` names the peer in messages.
  public init(adopting fd: Int32, path: String, timeout: Double = 10, maxLineBytes: Int = defaultMaxLineBytes)
    throws(VMError)
  {
    var conn = QMPConnection(fd: fd, path: path, maxLineBytes: maxLineBytes)
    do throws(VMError) {
      let deadline = monotonicSeconds() + timeout
      guard let first = try conn.readMessage(until: deadline, waitingFor: "the greeting") else {
        throw VMError(.system, "QMP socket \(path): no greeting within \(timeout) s")
      }
      guard let qmp = first["QMP"], case .object = qmp else {
        throw VMError(.system, "QMP socket \(path): the peer's first message is not a QMP greeting: \(first.json)")
      }
      greeting = qmp
      _ = try conn.execute("qmp_capabilities", arguments: nil, timeout: timeout)
    } catch {
      Glibc.close(fd)
      throw error
    }
    self.path = path
    self.connection = Mutex(conn)
  }

  deinit {
    _ = connection.withLock { Glibc.close($0.fd) }
  }

  /// Runs `command` with `arguments` and returns its `return` member; a QMP error, a timeout or a broken
  /// connection throws one line naming the command.
  @discardableResult
  public func execute(_ command: String, arguments: [String: QMPValue]? = nil, timeout: Double = 10)
    throws(VMError) -> QMPValue
  {
    try connection.withLock { (conn) throws(VMError) -> QMPValue in
      try conn.execute(command, arguments: arguments, timeout: timeout)
    }
  }

  /// `query-status`: the run state and whether the vCPUs run.
  public func queryStatus(timeout: Double = 10) throws(VMError) -> QMPStatus {
    let reply = try execute("query-status", timeout: timeout)
    guard let status = reply["status"]?.string, let running = reply["running"]?.bool else {
      throw VMError(.system, "QMP socket \(path): 'query-status' returned no status: \(reply.json)")
    }
    return QMPStatus(state: QMPRunState(status), running: running)
  }

  /// `system_powerdown`: asks the guest to shut down (ACPI power button); it may ignore it.
  public func systemPowerdown(timeout: Double = 10) throws(VMError) {
    try execute("system_powerdown", timeout: timeout)
  }

  /// `stop`: pauses the vCPUs.
  public func stop(timeout: Double = 10) throws(VMError) { try execute("stop", timeout: timeout) }

  /// `cont`: resumes the vCPUs.
  public func cont(timeout: Double = 10) throws(VMError) { try execute("cont", timeout: timeout) }

  /// `quit`: QEMU exits at once. QEMU closing the socket before its reply arrives (or before `quit` was
  /// sent) counts as done.
  public func quit(timeout: Double = 10) throws(VMError) {
    try connection.withLock { (conn) throws(VMError) in
      _ = try conn.execute("quit", arguments: nil, timeout: timeout, closeMeansDone: true)
    }
  }

  /// The first queued or arriving event whose name is in `names` (any event when nil), or nil when none
  /// came within `timeout` seconds. Events of other names stay queued.
  public func waitForEvent(_ names: Set<String>? = nil, timeout: Double) throws(VMError) -> QMPEvent? {
    try connection.withLock { (conn) throws(VMError) -> QMPEvent? in
      try conn.waitForEvent(names, timeout: timeout)
    }
  }

  /// Removes and returns every queued event, oldest first.
  public func takeEvents() -> [QMPEvent] {
    connection.withLock { conn in
      defer { conn.events.removeAll() }
      return conn.events
    }
  }

  private static func connectSocket(_ path: String) throws(VMError) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw VMError("socket for QMP socket \(path)", errno: errno) }
    var address = path
    var dir: Int32 = -1
    defer { if dir >= 0 { Glibc.close(dir) } }
    if path.utf8.count >= MemoryLayout.size(ofValue: sockaddr_un().sun_path) {
      // A guest's state dir can be deeper than sun_path's 108 bytes: reach the socket through its directory.
      let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
      let parent = slash.map { String(path[..<$0]) } ?? "."
      let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
      dir = open(parent.isEmpty ? "/" : parent, O_PATH | O_DIRECTORY | O_CLOEXEC)
      if dir < 0 {
        let code = errno
        Glibc.close(fd)
        throw VMError("open the directory of QMP socket \(path)", errno: code)
      }
      address = "/proc/self/fd/\(dir)/\(name)"
      if address.utf8.count >= MemoryLayout.size(ofValue: sockaddr_un().sun_path) {
        Glibc.close(fd)
        throw VMError(.invalidArgument, "QMP socket \(path): its file name is too long for a socket address")
      }
    }
    let rc = withSocketAddress(address) { Glibc.connect(fd, $0, $1) }
    if rc != 0 {
      let code = errno
      Glibc.close(fd)
      switch code {
      case ENOENT: throw VMError(.notFound, "QMP socket \(path) does not exist")
      case ECONNREFUSED: throw VMError(.invalidState, "QMP socket \(path): nothing listens on it (has QEMU exited?)")
      default: throw VMError("connect to QMP socket \(path)", errno: code)
      }
    }
    return fd
  }
}

/// The connection's state, only touched under the client's mutex.
struct QMPConnection: Sendable {
  let fd: Int32
  let path: String
  let maxLineBytes: Int
  var buffer: [UInt8] = []
  var events: [QMPEvent] = []
  var nextID = 1
  /// Set when the stream can no longer be trusted (closed, garbage, an oversized line): every later
  /// call fails with it.
  var broken: VMError?
  var closedByPeer = false

  init(fd: Int32, path: String, maxLineBytes: Int) {
    self.fd = fd
    self.path = path
    self.maxLineBytes = maxLineBytes
  }

  mutating func execute(
    _ command: String, arguments: [String: QMPValue]?, timeout: Double, closeMeansDone: Bool = false
  )
    throws(VMError) -> QMPValue
  {
    // For quit, a QEMU that has already closed its end has done what was asked.
    if closeMeansDone && closedByPeer { return .object([:]) }
    if let broken { throw VMError(broken.kind, "QMP command '\(command)': \(broken.message)") }
    let id = "cella-\(nextID)"
    nextID += 1
    var request: [String: QMPValue] = ["execute": .string(command), "id": .string(id)]
    if let arguments { request["arguments"] = .object(arguments) }
    var line: [UInt8] = []
    QMPValue.object(request).write(to: &line)
    line.append(UInt8(ascii: "\n"))
    do {
      try send(line, command: command)
    } catch {
      if closeMeansDone && closedByPeer { return .object([:]) }
      throw error
    }
    let deadline = monotonicSeconds() + timeout
    while true {
      let next: QMPValue?
      do {
        next = try readMessage(until: deadline, waitingFor: "the reply to '\(command)'")
      } catch {
        if closeMeansDone && closedByPeer { return .object([:]) }
        throw error
      }
      guard let message = next else {
        throw VMError(.system, "QMP command '\(command)': no reply within \(timeout) s from \(path)")
      }
      if queueIfEvent(message) { continue }
      // A reply without an id answers a line QEMU could not parse: ours, the only one outstanding.
      if let replyID = message["id"], replyID != .string(id) { continue }  // a late reply to a timed-out call
      if let result = message["return"] { return result }
      if let error = message["error"] {
        let cls = error["class"]?.string ?? "unknown class"
        let desc = error["desc"]?.string ?? error.json
        let kind: ErrorKind =
          switch cls {
          case "CommandNotFound": .unsupported
          case "DeviceNotFound": .notFound
          default: .system
          }
        throw VMError(kind, "QMP command '\(command)' failed: \(cls): \(desc)")
      }
      throw fail(.system, "a message that is neither a reply nor an event: \(message.json)")
    }
  }

  mutating func waitForEvent(_ names: Set<String>?, timeout: Double) throws(VMError) -> QMPEvent? {
    if let i = events.firstIndex(where: { names?.contains($0.name) ?? true }) { return events.remove(at: i) }
    if let broken { throw broken }
    let deadline = monotonicSeconds() + timeout
    while true {
      guard let message = try readMessage(until: deadline, waitingFor: "an event") else { return nil }
      guard queueIfEvent(message) else { continue }  // a late reply to a timed-out call
      if let last = events.last, names?.contains(last.name) ?? true { return events.removeLast() }
    }
  }

  /// Queues `message` if it is an event.
  private mutating func queueIfEvent(_ message: QMPValue) -> Bool {
    guard let name = message["event"]?.string else { return false }
    if events.count >= QMPClient.maxQueuedEvents { events.removeFirst() }
    events.append(QMPEvent(name: name, data: message["data"] ?? .object([:])))
    return true
  }

  private mutating func fail(_ kind: ErrorKind, _ what: String) -> VMError {
    let error = VMError(kind, "QMP socket \(path): \(what)")
    broken = error
    return error
  }

  private mutating func send(_ bytes: [UInt8], command: String) throws(VMError) {
    var offset = 0
    while offset < bytes.count {
      // MSG_NOSIGNAL: a QEMU that has gone must be an error, not a SIGPIPE for the whole daemon.
      let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if n < 0 {
        if errno == EINTR { continue }
        let code = errno
        if code == EPIPE || code == ECONNRESET {
          closedByPeer = true
          throw fail(.invalidState, "QEMU closed the connection before '\(command)' was sent")
        }
        throw fail(ErrorKind.from(errno: code), "sending '\(command)': \(ErrorText.errno(code))")
      }
      offset += n
    }
  }

  /// The next message, a JSON object on one line, or nil at `deadline` (the stream stays usable: a late
  /// reply is told apart by its id); anything else wrong breaks the connection.
  mutating func readMessage(until deadline: Double, waitingFor what: String) throws(VMError) -> QMPValue? {
    if let broken { throw broken }
    while true {
      if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        var line = Array(buffer[..<newline])
        buffer.removeSubrange(...newline)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > maxLineBytes { throw oversized() }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        let value: QMPValue
        do {
          value = try QMPValue.parse(line)
        } catch {
          throw fail(.system, "not JSON at column \(error.column) (\(error.reason)) while waiting for \(what)")
        }
        guard case .object = value else {
          throw fail(.system, "a message that is not a JSON object while waiting for \(what): \(value.json)")
        }
        return value
      }
      if buffer.count > maxLineBytes { throw oversized() }
      let left = deadline - monotonicSeconds()
      if left <= 0 { return nil }
      var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pfd, 1, Int32(min(left * 1000 + 1, Double(Int32.max))))
      if ready < 0 {
        if errno == EINTR { continue }
        throw fail(ErrorKind.from(errno: errno), "poll: \(ErrorText.errno(errno))")
      }
      if ready == 0 { continue }
      var chunk = [UInt8](repeating: 0, count: 65536)
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        let code = errno
        if code == ECONNRESET {
          closedByPeer = true
          throw fail(.invalidState, "QEMU closed the connection while we waited for \(what)")
        }
        throw fail(ErrorKind.from(errno: code), "recv: \(ErrorText.errno(code))")
      }
      if n == 0 {
        closedByPeer = true
        let partial = buffer.isEmpty ? "" : " (in the middle of a message)"
        throw fail(.invalidState, "QEMU closed the connection\(partial) while we waited for \(what)")
      }
      buffer.append(contentsOf: chunk[..<n])
    }
  }

  private mutating func oversized() -> VMError {
    buffer.removeAll()
    return fail(.system, "a message longer than \(maxLineBytes) bytes was refused")
  }
}

/// Seconds on the monotonic clock, for deadlines that wall-clock changes cannot move.
func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
