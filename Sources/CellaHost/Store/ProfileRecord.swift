import CellaAPI

/// What `profiles/NAME.yaml` holds: named keys that guests take in order.
public struct ProfileRecord: Sendable, Equatable, Encodable {
  public var name: String
  public var description: String?
  public var config: [String: String]

  public init(name: String, description: String? = nil, config: [String: String] = [:]) {
    self.name = name
    self.description = description
    self.config = config
  }

  static let fields: Set<String> = ["name", "description", "config"]

  /// Reads `path`; problems name the file, line and column.
  public static func read(_ path: String) throws(HostError) -> ProfileRecord {
    try decode(YAMLDocument.read(path))
  }

  /// Parses profile YAML text; `path` names it in errors.
  public static func parse(_ bytes: [UInt8], path: String) throws(HostError) -> ProfileRecord {
    try decode(YAMLDocument.parse(bytes, path: path))
  }

  private static func decode(_ doc: YAMLDocument) throws(HostError) -> ProfileRecord {
    try doc.refuseUnknown(fields)
    let name = try doc.string("name")
    do throws(HostError) {
      try Names.check(name, as: "profile")
    } catch {
      throw doc.error(doc.field("name"), "name", error.message)
    }
    let description = try doc.optionalString("description")
    // A profile may hold keys of any guest kind: each guest checks the keys that reach it.
    let config =
      try doc.stringMap("config") { (key, value) throws(HostError) in
        try ConfigKeys.validate(key: key, value: value, kind: nil, host: false)
      } ?? [:]
    return ProfileRecord(name: name, description: description, config: config)
  }

  /// The API's view of it.
  public func info(usedBy: [String]) -> ProfileInfo {
    ProfileInfo(name: name, description: description, config: config, usedBy: usedBy)
  }

  /// The YAML text, keys sorted.
  public func yaml() throws(HostError) -> [UInt8] { try YAMLDocument.encode(self, path: "\(name).yaml") }

  /// Writes the record atomically to `path`.
  public func write(to path: String) throws(HostError) {
    try YAMLDocument.write(try YAMLDocument.encode(self, path: path), to: path)
  }
}
