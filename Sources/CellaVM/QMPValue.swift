// QMP's JSON, read and written here: CellaOCI's codec is internal to that target and CellaVM does not
// depend on it (nor on Foundation); when a shared CellaJSON target exists, this file should give way to it.

/// One JSON value as QMP sends it. Numbers keep their literal text (QMP's are integers of any width).
public enum QMPValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([QMPValue])
  case object([String: QMPValue])

  /// The member `key` of an object, nil for anything else.
  public subscript(key: String) -> QMPValue? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// The text of a string value.
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The value of a boolean.
  public var bool: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// A number that fits an Int.
  public var int: Int? {
    if case .number(let text) = self { return Int(text) }
    return nil
  }

  /// The value as one compact JSON text (object members sorted, so output is reproducible).
  public var json: String {
    var out: [UInt8] = []
    write(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  func write(to out: inout [UInt8]) {
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let text): out.append(contentsOf: text.utf8)
    case .string(let s): Self.writeString(s, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (i, key) in members.keys.sorted().enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        Self.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        members[key]!.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  private static func writeString(_ s: String, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, b])
      case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x00..<0x20, 0x7F:
        out.append(contentsOf: "\\u00".utf8)
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 0xF)])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Parses one JSON text (strict RFC 8259), throwing the byte offset and what was wrong.
  public static func parse(_ bytes: [UInt8]) throws(QMPSyntaxError) -> QMPValue {
    var reader = QMPJSONReader(bytes: bytes)
    reader.skipSpace()
    let value = try reader.value()
    reader.skipSpace()
    if reader.index < bytes.count { throw reader.fail("unexpected \(reader.current) after the JSON value") }
    return value
  }
}

/// Why a QMP line is not JSON, with the 1-based column (a QMP message is one line).
public struct QMPSyntaxError: Error, Equatable {
  public let column: Int
  public let reason: String
}

private struct QMPJSONReader {
  let bytes: [UInt8]
  var index = 0
  var depth = 0
  // QMP's own replies nest a few levels (query-qmp-schema under ten); a bound keeps recursion finite.
  static let maxDepth = 64

  func fail(_ reason: String) -> QMPSyntaxError {
    var column = 1
    for b in bytes[..<min(index, bytes.count)] where b & 0xC0 != 0x80 { column += 1 }
    return QMPSyntaxError(column: column, reason: reason)
  }

  var current: String {
    guard index < bytes.count else { return "end of line" }
    let b = bytes[index]
    if b > 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x\(String(b, radix: 16))"
  }

  mutating func skipSpace() {
    while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
  }

  mutating func value() throws(QMPSyntaxError) -> QMPValue {
    guard index < bytes.count else { throw fail("unexpected end of line, expected a value") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try container(close: UInt8(ascii: "}"))
    case UInt8(ascii: "["): return try container(close: UInt8(ascii: "]"))
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    default: throw fail("unexpected \(current), expected a value")
    }
  }

  mutating func literal(_ word: String, _ result: QMPValue) throws(QMPSyntaxError) -> QMPValue {
    let w = Array(word.utf8)
    guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
      throw fail("invalid literal, expected '\(word)'")
    }
    index += w.count
    return result
  }

  /// An object or an array, whose opening bracket is at `index`.
  mutating func container(close: UInt8) throws(QMPSyntaxError) -> QMPValue {
    depth += 1
    if depth > Self.maxDepth { throw fail("nesting is deeper than \(Self.maxDepth) levels") }
    defer { depth -= 1 }
    let isObject = close == UInt8(ascii: "}")
    index += 1
    var members: [String: QMPValue] = [:]
    var items: [QMPValue] = []
    skipSpace()
    if index < bytes.count, bytes[index] == close {
      index += 1
    } else {
      while true {
        skipSpace()
        if isObject {
          guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw fail("unexpected \(current), expected a member name")
          }
          let key = try string()
          skipSpace()
          guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
            throw fail("unexpected \(current), expected ':'")
          }
          index += 1
          skipSpace()
          members[key] = try value()
        } else {
          items.append(try value())
        }
        skipSpace()
        guard index < bytes.count else { throw fail("unexpected end of line, expected ',' or a closing bracket") }
        if bytes[index] == UInt8(ascii: ",") {
          index += 1
          continue
        }
        guard bytes[index] == close else { throw fail("unexpected \(current), expected ',' or a closing bracket") }
        index += 1
        break
      }
    }
    return isObject ? .object(members) : .array(items)
  }

  mutating func string() throws(QMPSyntaxError) -> String {
    index += 1
    var buffer: [UInt8] = []
    while index < bytes.count {
      let b = bytes[index]
      index += 1
      switch b {
      case UInt8(ascii: "\""):
        guard let s = String(validating: buffer, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
      case UInt8(ascii: "\\"):
        guard index < bytes.count else { throw fail("unterminated string") }
        let e = bytes[index]
        index += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == 0x5C, bytes[index + 1] == UInt8(ascii: "u") else {
              throw fail("unpaired UTF-16 surrogate")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired UTF-16 surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let u = Unicode.Scalar(scalar) else { throw fail("unpaired UTF-16 surrogate") }
          buffer.append(contentsOf: String(Character(u)).utf8)
        default:
          index -= 1
          throw fail("invalid escape \\\(current)")
        }
      default:
        if b < 0x20 {
          index -= 1
          throw fail("control character in a string")
        }
        buffer.append(b)
      }
    }
    throw fail("unterminated string")
  }

  mutating func hex4() throws(QMPSyntaxError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard index < bytes.count, let d = Int(String(Unicode.Scalar(bytes[index])), radix: 16) else {
        throw fail("invalid \\u escape")
      }
      v = v << 4 | UInt32(d)
      index += 1
    }
    return v
  }

  mutating func number() throws(QMPSyntaxError) -> String {
    let start = index
    func digits(_ r: inout QMPJSONReader) -> Int {
      let s = r.index
      while r.index < r.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.bytes[r.index]) { r.index += 1 }
      return r.index - s
    }
    if bytes[index] == UInt8(ascii: "-") { index += 1 }
    let intStart = index
    let n = digits(&self)
    if n == 0 { throw fail("invalid number, expected a digit") }
    if n > 1, bytes[intStart] == UInt8(ascii: "0") { throw fail("invalid number, leading zero") }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      if digits(&self) == 0 { throw fail("invalid number, expected a digit after '.'") }
    }
    if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
      index += 1
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
      if digits(&self) == 0 { throw fail("invalid number, expected a digit in the exponent") }
    }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }
}
