import CellaErrors
import CellaSys
import Glibc
import Yams

/// Reading and writing the store's YAML records. Reading walks the composed node tree rather than
/// decoding, so every error can name the file, the line and the column (`…/guest.yaml:3:5: …`) and
/// unknown fields are refused where they stand.
struct YAMLDocument {
  /// The file, for errors.
  let path: String
  let root: Node.Mapping
  let rootMark: Mark?

  /// The largest record read (a guest.yaml with a thousand keys is far below).
  static let maxBytes = 4 << 20

  /// Reads and parses the mapping at `path`.
  static func read(_ path: String) throws(HostError) -> YAMLDocument {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.read(path, limit: maxBytes + 1)
    } catch {
      throw HostError(error.kind, error.message)
    }
    if bytes.count > maxBytes { throw HostError(.invalidArgument, "\(path): larger than \(maxBytes) bytes") }
    return try parse(bytes, path: path)
  }

  /// Parses a mapping from `bytes`; `path` names it in errors.
  static func parse(_ bytes: [UInt8], path: String) throws(HostError) -> YAMLDocument {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw HostError(.invalidArgument, "\(path): not UTF-8 text")
    }
    let node: Node?
    do {
      // UTF-8 named here: Yams' default looks the encoding up in the whole process environment at
      // every parse (a daemon's start read three records and paid for it three times).
      node = try Yams.compose(yaml: text, .default, .default, .utf8)
    } catch let error as YamlError {
      throw HostError(.invalidArgument, "\(path):\(describe(error))")
    } catch {
      throw HostError(.invalidArgument, "\(path): \(error)")
    }
    guard let node else { throw HostError(.invalidArgument, "\(path): empty; expected a mapping of fields") }
    guard let map = node.mapping else {
      throw HostError(.invalidArgument, "\(path):\(at(node.mark)) expected a mapping of fields")
    }
    return YAMLDocument(path: path, root: map, rootMark: node.mark)
  }

  /// `line:column:` of a YAML error followed by its problem, one line.
  static func describe(_ error: YamlError) -> String {
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let ctx = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
      return "\(mark.line):\(mark.column): \(problem)\(ctx)"
    case .duplicatedKeysInMapping(let duplicates, let context):
      return "\(context.mark.line):\(context.mark.column): duplicate key \(duplicates.sorted().joined(separator: ", "))"
    case .reader(let problem, let offset, _, _):
      return " \(problem)\(offset.map { " at byte \($0)" } ?? "")"
    default:
      return " \(error)"
    }
  }

  static func at(_ mark: Mark?) -> String { mark.map { "\($0.line):\($0.column):" } ?? "" }

  /// `path:line:column: field: text` for a problem at `node`.
  func error(_ node: Node?, _ field: String, _ text: String) -> HostError {
    HostError(.invalidArgument, "\(path):\(Self.at(node?.mark ?? rootMark)) \(field): \(text)")
  }

  /// Refuses any top-level field not in `known`.
  func refuseUnknown(_ known: Set<String>) throws(HostError) {
    for (key, _) in root {
      guard let name = key.scalar?.string, known.contains(name) else {
        let shown = key.scalar.map { ConfigValues.quote($0.string) } ?? "a non-text key"
        throw HostError(
          .invalidArgument,
          "\(path):\(Self.at(key.mark)) unknown field \(shown); known: \(known.sorted().joined(separator: ", "))")
      }
    }
  }

  /// The value of a top-level field; nil when absent or null.
  func field(_ name: String) -> Node? {
    guard let node = root[name] else { return nil }
    if let s = node.scalar, s.tag == Tag(.null) || (s.style == .plain && (s.string == "~" || s.string.isEmpty)) {
      return nil
    }
    return node
  }

  /// A required text field.
  func string(_ name: String) throws(HostError) -> String {
    guard let node = field(name) else { throw error(nil, name, "missing") }
    return try text(node, name)
  }

  /// An optional text field.
  func optionalString(_ name: String) throws(HostError) -> String? {
    guard let node = field(name) else { return nil }
    return try text(node, name)
  }

  /// An optional list of text.
  func stringList(_ name: String) throws(HostError) -> [String]? {
    guard let node = field(name) else { return nil }
    guard let seq = node.sequence else { throw error(node, name, "expected a list") }
    var out: [String] = []
    for (i, item) in seq.enumerated() { out.append(try text(item, "\(name)[\(i)]")) }
    return out
  }

  /// An optional text-to-text mapping, each value checked by `check(key, value)` (its error's message
  /// is put after the location).
  func stringMap(
    _ name: String, check: (String, String) throws(HostError) -> Void = { _, _ in }
  ) throws(HostError) -> [String: String]? {
    guard let node = field(name) else { return nil }
    guard let map = node.mapping else { throw error(node, name, "expected a mapping of keys to values") }
    var out: [String: String] = [:]
    for (k, v) in map {
      let key = try text(k, name)
      let value = try text(v, "\(name).\(key)")
      do throws(HostError) {
        try check(key, value)
      } catch let e {
        throw HostError(.invalidArgument, "\(path):\(Self.at(v.mark ?? k.mark)) \(name): \(e.message)")
      }
      out[key] = value
    }
    return out
  }

  private func text(_ node: Node, _ field: String) throws(HostError) -> String {
    guard let s = node.scalar else {
      throw error(node, field, "expected text, found a \(node.sequence != nil ? "list" : "mapping")")
    }
    return s.string
  }

  /// Sorted-key YAML of an Encodable record (nil fields left out).
  static func encode<T: Encodable>(_ value: T, path: String) throws(HostError) -> [UInt8] {
    let encoder = YAMLEncoder()
    encoder.options.sortKeys = true
    encoder.options.allowUnicode = true
    do {
      return Array(try encoder.encode(value).utf8)
    } catch {
      throw HostError(.internal, "\(path): cannot write YAML: \(error)")
    }
  }

  /// Writes `bytes` to `path` atomically (temp file, fsync, rename).
  static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(HostError) {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    do {
      try FileIO.writeAtomically(directory: dir.isEmpty ? "/" : dir, name: name, bytes, mode: mode)
    } catch {
      throw HostError(error.kind, error.message)
    }
  }
}
