/// JSON reading and writing for the OCI files (config.json, state.json,
/// features.json) with one-line, field-naming errors.
public enum OCIJSON {
  /// Decodes `type` from JSON bytes. Errors read
  /// `<file>: malformed JSON at line 3, column 7: ...` or
  /// `<file>: process.user.uid: expected a number, found a string`.
  public static func decode<T: Decodable>(
    _ type: T.Type, from bytes: [UInt8], file: String = "config.json"
  ) throws(OCIError) -> T {
    let value: JSONValue
    do {
      value = try JSONParser.parse(bytes)
    } catch {
      throw OCIError("\(file): malformed JSON at line \(error.line), column \(error.column): \(error.reason)")
    }
    do {
      return try JSONValueDecoder.decode(type, from: value)
    } catch let error as DecodingError {
      throw OCIError("\(file): \(describe(error))")
    } catch let error as OCIError {
      throw error
    } catch {
      throw OCIError("\(file): \(error)")
    }
  }

  /// Encodes in struct field order (dictionary keys sorted), nil fields left
  /// out; pretty output uses a two-space indent.
  public static func encode<T: Encodable>(_ value: T, pretty: Bool = true, trailingNewline: Bool = true) -> [UInt8] {
    var bytes: [UInt8]
    do {
      bytes = try JSONValueEncoder.encode(value, pretty: pretty)
    } catch {
      // Only non-finite floating point values can fail; the OCI models have none.
      preconditionFailure("OCIJSON.encode: \(error)")
    }
    if trailingNewline { bytes.append(UInt8(ascii: "\n")) }
    return bytes
  }

  /// Renders a coding path as `linux.namespaces[2].type`; keys that are not
  /// plain identifiers (sysctl names, annotations) as `linux.sysctl["a.b"]`.
  public static func path(_ codingPath: [any CodingKey]) -> String {
    var out = ""
    for key in codingPath {
      if key is JSONIndexKey, let i = key.intValue {
        out += "[\(i)]"
      } else if isIdentifier(key.stringValue) {
        if !out.isEmpty { out += "." }
        out += key.stringValue
      } else {
        out += "[\(quote(key.stringValue))]"
      }
    }
    return out
  }

  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      let p = path(context.codingPath)
      return p.isEmpty ? context.debugDescription : "\(p): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
      var codingPath = context.codingPath
      if codingPath.last?.stringValue != key.stringValue { codingPath.append(key) }
      return "\(path(codingPath)): required field is missing"
    @unknown default:
      return "\(error)"
    }
  }

  private static func isIdentifier(_ s: String) -> Bool {
    guard let first = s.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
      return false
    }
    return s.utf8.allSatisfy { b in
      (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }
  }
}
