/// One frame of an upgraded stream (exec, console): a type byte, a 4-byte big-endian length, the payload.
///
/// After `101 Switching Protocols` (`Upgrade: cella-stream`) both sides speak only frames, so output,
/// errors, resizes and the exit status share one connection without a second socket.
public struct StreamFrame: Sendable, Equatable {
  /// What a frame carries.
  public enum Kind: UInt8, Sendable, CaseIterable {
    /// Client to daemon: bytes for the process's stdin (or the console).
    case stdin = 0
    /// Daemon to client: the process's stdout (or the terminal's output).
    case stdout = 1
    /// Daemon to client: the process's stderr (without a terminal).
    case stderr = 2
    /// Daemon to client, last: JSON `{"code": N}`, `{"signal": N}` or an error envelope.
    case exit = 3
    /// Client to daemon: the terminal's new size, rows then columns, two bytes each, big-endian.
    case resize = 4
    /// Client to daemon: no more stdin.
    case stdinClosed = 5
  }

  /// The upgrade token both sides name in `Upgrade:`.
  public static let upgradeToken = "cella-stream"
  /// Bytes before the payload.
  public static let headerSize = 5
  /// The largest payload a peer may send; anything longer is a protocol error.
  public static let maxPayload = 1 << 20

  public var kind: Kind
  public var payload: [UInt8]

  public init(_ kind: Kind, _ payload: [UInt8] = []) {
    self.kind = kind
    self.payload = payload
  }

  /// A resize frame.
  public static func resize(rows: Int, cols: Int) -> StreamFrame {
    let r = UInt16(clamping: rows)
    let c = UInt16(clamping: cols)
    return StreamFrame(.resize, [UInt8(r >> 8), UInt8(r & 0xff), UInt8(c >> 8), UInt8(c & 0xff)])
  }

  /// Rows and columns of a resize frame, nil when the payload is not four bytes.
  public var size: (rows: Int, cols: Int)? {
    guard kind == .resize, payload.count == 4 else { return nil }
    return (Int(payload[0]) << 8 | Int(payload[1]), Int(payload[2]) << 8 | Int(payload[3]))
  }

  /// The frame's bytes on the wire.
  public var encoded: [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(Self.headerSize + payload.count)
    out.append(kind.rawValue)
    let n = UInt32(payload.count)
    out.append(contentsOf: [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)])
    out.append(contentsOf: payload)
    return out
  }

  /// What decoding the start of a buffer found.
  public enum Decoded: Sendable, Equatable {
    /// A whole frame and how many bytes it took.
    case frame(StreamFrame, consumed: Int)
    /// Not enough bytes yet.
    case incomplete
    /// An unknown type or a length over `maxPayload`: the peer is not speaking this protocol.
    case invalid(String)
  }

  /// Decodes the frame at the start of `bytes`.
  public static func decode(_ bytes: some Collection<UInt8>) -> Decoded {
    guard bytes.count >= headerSize else { return .incomplete }
    var it = bytes.makeIterator()
    let type = it.next()!
    var n = 0
    for _ in 0..<4 { n = n << 8 | Int(it.next()!) }
    guard let kind = Kind(rawValue: type) else { return .invalid("unknown stream frame type \(type)") }
    guard n <= maxPayload else { return .invalid("stream frame of \(n) bytes is over \(maxPayload)") }
    guard bytes.count >= headerSize + n else { return .incomplete }
    let payload = Array(bytes.dropFirst(headerSize).prefix(n))
    return .frame(StreamFrame(kind, payload), consumed: headerSize + n)
  }
}
