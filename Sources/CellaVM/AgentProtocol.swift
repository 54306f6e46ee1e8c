import Glibc

/// The exec protocol between `cella-agent exec` on the host and the agent in the guest, over one virtio-serial
/// port (a byte stream that survives host disconnects, so old bytes may still be queued in either direction).
///
/// A session: the host sends `hello` = `helloMagic` + a fresh 16-byte nonce; the agent skips everything before a
/// `helloMagic` and answers `ackMagic` + the same nonce; the host skips everything before that exact answer. From
/// then on both sides send frames: one type byte, a big-endian UInt32 payload length, the payload.
public enum AgentProtocol {
  /// Opens a session (host to agent); 16 nonce bytes follow.
  public static let helloMagic: [UInt8] = Array("\u{0}CELLA-AGENT-HELLO-1\u{0}".utf8)
  /// Answers a hello (agent to host); the hello's nonce follows.
  public static let ackMagic: [UInt8] = Array("\u{0}CELLA-AGENT-READY-1\u{0}".utf8)
  public static let nonceSize = 16
  /// The largest payload either side accepts (an exec request's argv and env included).
  public static let maxPayload = 1 << 20
  /// The size of the data frames either side sends.
  public static let chunkSize = 32 << 10
  /// The virtio-serial port name of agent port `k` (1-based); the host's socket is `agent-k.sock`.
  public static func portName(_ k: Int) -> String { "org.cella.agent.\(k)" }
}

/// One protocol frame.
public enum AgentFrame: Sendable, Equatable {
  /// Host to agent, once, first: what to run.
  case exec(AgentExecRequest)
  /// Host to agent: bytes for the command's stdin (or its terminal).
  case stdin([UInt8])
  /// Agent to host: the command's output (all of it with a terminal).
  case stdout([UInt8])
  case stderr([UInt8])
  /// Host to agent: the host's stdin ended; the command's stdin is closed (ignored with a terminal).
  case stdinEOF
  /// Host to agent: the terminal's new size.
  case resize(rows: UInt16, cols: UInt16)
  /// Host to agent: a signal for the command's process group.
  case signal(Int32)
  /// Agent to host, last: the exit status as a shell reports it (code, or 128 + signal).
  case exit(Int32)
  /// Agent to host, last: the command could not start; `status` is 127 (not found) or 126.
  case error(status: Int32, message: String)

  var type: UInt8 {
    switch self {
    case .exec: 1
    case .stdin: 2
    case .stdout: 3
    case .stderr: 4
    case .stdinEOF: 5
    case .resize: 6
    case .signal: 7
    case .exit: 8
    case .error: 9
    }
  }

  /// The frame's bytes on the wire.
  public func encoded() -> [UInt8] {
    let payload: [UInt8]
    switch self {
    case .exec(let request): payload = request.encoded()
    case .stdin(let b), .stdout(let b), .stderr(let b): payload = b
    case .stdinEOF: payload = []
    case .resize(let rows, let cols): payload = be16(rows) + be16(cols)
    case .signal(let n), .exit(let n): payload = be32(UInt32(bitPattern: n))
    case .error(let status, let message): payload = be32(UInt32(bitPattern: status)) + Array(message.utf8)
    }
    return [type] + be32(UInt32(payload.count)) + payload
  }

  static func decode(type: UInt8, _ p: ArraySlice<UInt8>) throws(VMError) -> AgentFrame {
    func int32() throws(VMError) -> Int32 {
      guard p.count >= 4 else { throw VMError(.invalidArgument, "agent frame \(type): payload too short") }
      return Int32(bitPattern: readBE32(p, at: p.startIndex))
    }
    switch type {
    case 1: return .exec(try AgentExecRequest.parse(Array(p)))
    case 2: return .stdin(Array(p))
    case 3: return .stdout(Array(p))
    case 4: return .stderr(Array(p))
    case 5: return .stdinEOF
    case 6:
      guard p.count == 4 else { throw VMError(.invalidArgument, "agent resize frame: payload is not 4 bytes") }
      let v = readBE32(p, at: p.startIndex)
      return .resize(rows: UInt16(v >> 16), cols: UInt16(v & 0xFFFF))
    case 7: return .signal(try int32())
    case 8: return .exit(try int32())
    case 9: return .error(status: try int32(), message: String(decoding: p.dropFirst(4), as: UTF8.self))
    default: throw VMError(.invalidArgument, "agent frame: unknown type \(type)")
    }
  }
}

/// Splits a byte stream into frames.
public struct AgentFrameDecoder: Sendable {
  private var buffer: [UInt8] = []

  public init() {}

  /// Appends received bytes.
  public mutating func feed<S: Sequence<UInt8>>(_ bytes: S) { buffer.append(contentsOf: bytes) }

  /// The next whole frame, nil if more bytes are needed; throws on a malformed or oversized frame.
  public mutating func next() throws(VMError) -> AgentFrame? {
    guard buffer.count >= 5 else { return nil }
    let length = Int(readBE32(buffer[...], at: 1))
    guard length <= AgentProtocol.maxPayload else {
      throw VMError(.invalidArgument, "agent frame: \(length) bytes, more than \(AgentProtocol.maxPayload)")
    }
    guard buffer.count >= 5 + length else { return nil }
    let frame = try AgentFrame.decode(type: buffer[0], buffer[5..<5 + length])
    buffer.removeFirst(5 + length)
    return frame
  }

  /// What is buffered beyond the frames taken so far.
  public var pending: Int { buffer.count }
}

/// Finds `pattern` in a byte stream fed in pieces; keeps only what could still start a match.
public struct AgentSync: Sendable {
  public let pattern: [UInt8]
  private var tail: [UInt8] = []

  public init(pattern: [UInt8]) { self.pattern = pattern }

  /// Feeds bytes; once the pattern is seen, returns the bytes that followed it in this piece.
  public mutating func feed<S: Sequence<UInt8>>(_ bytes: S) -> [UInt8]? {
    var data = tail
    data.append(contentsOf: bytes)
    // memchr and memcmp, not a byte at a time: an agent port may hold megabytes of an ended session's input to
    // skip before the next hello, and the agent is a debug build under TCG in the tests.
    let found: Int? = data.withUnsafeBytes { hay in
      pattern.withUnsafeBytes { pat in
        var at = 0
        while pat.count > 0 && hay.count - at >= pat.count {
          guard let hit = memchr(hay.baseAddress! + at, Int32(pat[0]), hay.count - at - pat.count + 1) else {
            return nil
          }
          let index = UnsafeRawPointer(hit) - hay.baseAddress!
          if memcmp(hit, pat.baseAddress!, pat.count) == 0 { return index }
          at = index + 1
        }
        return nil
      }
    }
    guard let index = found else {
      tail = Array(data.suffix(max(pattern.count - 1, 0)))
      return nil
    }
    tail = []
    return Array(data[(index + pattern.count)...])
  }
}

/// What the host asks the agent to run.
public struct AgentExecRequest: Sendable, Equatable {
  public var argv: [String]
  /// `KEY=value` words; empty means the guest command's environment.
  public var env: [String]
  /// nil means the guest command's working directory.
  public var cwd: String?
  /// nil means the guest command's user (both set or both nil).
  public var uid: UInt32?
  public var gid: UInt32?
  public var tty: Bool
  public var rows: UInt16
  public var cols: UInt16

  public init(
    argv: [String], env: [String] = [], cwd: String? = nil, uid: UInt32? = nil, gid: UInt32? = nil,
    tty: Bool = false, rows: UInt16 = 24, cols: UInt16 = 80
  ) {
    self.argv = argv
    self.env = env
    self.cwd = cwd
    self.uid = uid
    self.gid = gid
    self.tty = tty
    self.rows = rows
    self.cols = cols
  }

  func encoded() -> [UInt8] {
    var m: [String: QMPValue] = [
      "argv": .array(argv.map { .string($0) }), "env": .array(env.map { .string($0) }), "tty": .bool(tty),
      "rows": .number(String(rows)), "cols": .number(String(cols)),
    ]
    if let cwd { m["cwd"] = .string(cwd) }
    if let uid, let gid { m["user"] = .string("\(uid):\(gid)") }
    return Array(QMPValue.object(m).json.utf8)
  }

  static func parse(_ bytes: [UInt8]) throws(VMError) -> AgentExecRequest {
    let value: QMPValue
    do { value = try QMPValue.parse(bytes) } catch {
      throw VMError(.invalidArgument, "exec request: not JSON at column \(error.column): \(error.reason)")
    }
    func strings(_ key: String) throws(VMError) -> [String] {
      guard case .array(let items)? = value[key] else {
        throw VMError(.invalidArgument, "exec request: \(key) is not an array")
      }
      var out: [String] = []
      for item in items {
        guard let s = item.string, !s.utf8.contains(0) else {
          throw VMError(.invalidArgument, "exec request: \(key) holds a non-string")
        }
        out.append(s)
      }
      return out
    }
    var r = AgentExecRequest(argv: try strings("argv"), env: try strings("env"))
    guard let first = r.argv.first, !first.isEmpty else {
      throw VMError(.invalidArgument, "exec request: argv is empty")
    }
    r.cwd = value["cwd"]?.string
    if let user = value["user"]?.string {
      let (uid, gid) = try GuestBootConfig.parseUser(user, field: "exec request: user")
      r.uid = uid
      r.gid = gid
    }
    r.tty = value["tty"]?.bool ?? false
    r.rows = UInt16(clamping: value["rows"]?.int ?? 24)
    r.cols = UInt16(clamping: value["cols"]?.int ?? 80)
    return r
  }
}

private func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
private func be32(_ v: UInt32) -> [UInt8] {
  [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
}
private func readBE32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
  UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}
