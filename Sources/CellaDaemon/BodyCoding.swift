import CellaAPI
import CellaErrors
import FoundationEssentials

/// JSON in and out of request and reply bodies; a body that does not decode names the field at fault.
enum BodyCoding {
  /// Decodes a request body; an empty body is `fallback` when the route takes an optional body.
  static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], fallback: T? = nil) throws -> T {
    if body.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }), let fallback { return fallback }
    do {
      return try JSONDecoder().decode(T.self, from: Data(body))
    } catch let error as DecodingError {
      throw DaemonError(.invalidArgument, "request body: " + describe(error))
    }
  }

  /// A 2xx JSON reply.
  static func reply<T: Encodable>(_ value: T, status: Int = 200) throws -> APIReply {
    APIReply(status: status, contentType: "application/json", body: try encode(value))
  }

  /// The error envelope of any error: a `KindedError` keeps its kind, anything else is internal.
  static func errorReply(_ error: any Error) -> APIReply {
    let api: APIError
    if let kinded = error as? any KindedError {
      api = APIError(kinded)
    } else {
      api = APIError(.internal, "\(error)")
    }
    let body = (try? encode(ErrorEnvelope(error: api))) ?? Array(#"{"error":{"kind":"internal","message":"?"}}"#.utf8)
    return APIReply(status: api.kind.httpStatus, contentType: "application/json", body: body)
  }

  static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
  }

  /// `field "config": expected a string value for key "limits.memory"`.
  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(let type, let context):
      return where_(context.codingPath) + "expected " + name(of: type) + " value" + keySuffix(context.codingPath)
    case .valueNotFound(let type, let context):
      return where_(context.codingPath) + "expected " + name(of: type) + " value, not null"
        + keySuffix(context.codingPath)
    case .keyNotFound(let key, let context):
      return "field \"" + fieldPath(context.codingPath + [key]) + "\" is missing"
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty { return "not valid JSON" }
      return where_(context.codingPath) + context.debugDescription + keySuffix(context.codingPath)
    @unknown default:
      return "cannot be decoded"
    }
  }

  /// The field is the top-level key plus array indices; a string key below it is a map's key (the request
  /// models hold nothing deeper than arrays and string maps).
  private static func split(_ path: [any CodingKey]) -> (field: [any CodingKey], key: String?) {
    guard let first = path.first else { return ([], nil) }
    var field = [first]
    for component in path.dropFirst() {
      if component.intValue != nil {
        field.append(component)
      } else {
        return (field, component.stringValue)
      }
    }
    return (field, nil)
  }

  private static func fieldPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for component in split(path).field {
      if let i = component.intValue {
        out += "[\(i)]"
      } else {
        out += out.isEmpty ? component.stringValue : "." + component.stringValue
      }
    }
    return out
  }

  private static func where_(_ path: [any CodingKey]) -> String {
    path.isEmpty ? "" : "field \"" + fieldPath(path) + "\": "
  }

  private static func keySuffix(_ path: [any CodingKey]) -> String {
    split(path).key.map { " for key \"\($0)\"" } ?? ""
  }

  private static func name(of type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Bool.Type: return "a boolean"
    case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type: return "an integer"
    case is Double.Type: return "a number"
    default:
      let text = "\(type)"
      if text.hasPrefix("Array") { return "an array" }
      if text.hasPrefix("Dictionary") { return "an object" }
      return "a " + text
    }
  }
}
