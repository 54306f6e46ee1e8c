import CellaAPI

/// What `guests/NAME/guest.yaml` holds: how a guest was made. Its state lives in state.json.
public struct GuestRecord: Sendable, Equatable, Encodable {
  public var name: String
  public var kind: GuestKind
  /// The image its root comes from; nil for a VM booted from `vm.kernel` or its own disk.
  public var image: String?
  /// Profiles applied after `default`, in order.
  public var profiles: [String]
  /// The guest's own keys.
  public var config: [String: String]
  /// The command that replaces the image's entrypoint and cmd, when given at create.
  public var command: [String]?
  /// When it was created (RFC 3339, UTC).
  public var created: String
  /// Host ports published to it (`cella port add`), in the order added.
  public var ports: [PortMapping]

  public init(
    name: String, kind: GuestKind = .container, image: String?, profiles: [String] = [], config: [String: String] = [:],
    command: [String]? = nil, created: String, ports: [PortMapping] = []
  ) {
    self.name = name
    self.kind = kind
    self.image = image
    self.profiles = profiles
    self.config = config
    self.command = command
    self.created = created
    self.ports = ports
  }

  static let fields: Set<String> = ["name", "kind", "image", "profiles", "config", "command", "created", "ports"]

  enum CodingKeys: String, CodingKey { case name, kind, image, profiles, config, command, created, ports }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(kind, forKey: .kind)
    try c.encodeIfPresent(image, forKey: .image)
    try c.encode(profiles, forKey: .profiles)
    try c.encode(config, forKey: .config)
    try c.encodeIfPresent(command, forKey: .command)
    try c.encode(created, forKey: .created)
    // A guest without published ports keeps the file it always had.
    if !ports.isEmpty { try c.encode(ports, forKey: .ports) }
  }

  /// Reads `path`: any YAML, field, name or key problem is one line with the file, line and column.
  public static func read(_ path: String) throws(HostError) -> GuestRecord {
    try decode(YAMLDocument.read(path))
  }

  /// Parses guest.yaml text; `path` names it in errors.
  public static func parse(_ bytes: [UInt8], path: String) throws(HostError) -> GuestRecord {
    try decode(YAMLDocument.parse(bytes, path: path))
  }

  private static func decode(_ doc: YAMLDocument) throws(HostError) -> GuestRecord {
    try doc.refuseUnknown(fields)
    let name = try doc.string("name")
    try check(doc, "name") { () throws(HostError) in try Names.check(name, as: "guest") }
    let kindText = try doc.optionalString("kind") ?? GuestKind.container.rawValue
    guard let kind = GuestKind(rawValue: kindText) else {
      throw doc.error(
        doc.field("kind"), "kind",
        "\(ConfigValues.quote(kindText)) is not \(GuestKind.allCases.map(\.rawValue).joined(separator: " or "))")
    }
    let image = kind == .container ? try doc.string("image") : try doc.optionalString("image")
    if let image { try check(doc, "image") { () throws(HostError) in try Names.check(image, as: "image") } }
    let profiles = try doc.stringList("profiles") ?? []
    for (i, p) in profiles.enumerated() {
      do throws(HostError) {
        try Names.check(p, as: "profile")
      } catch {
        throw doc.error(doc.field("profiles")?.sequence?[i], "profiles[\(i)]", error.message)
      }
    }
    let config =
      try doc.stringMap("config") { (key, value) throws(HostError) in
        try ConfigKeys.validate(key: key, value: value, kind: kind, host: false)
      } ?? [:]
    let command = try doc.stringList("command")
    if let command, command.isEmpty {
      throw doc.error(doc.field("command"), "command", "is empty; leave it out instead")
    }
    let created = try doc.string("created")
    var ports: [PortMapping] = []
    for (i, text) in (try doc.stringList("ports") ?? []).enumerated() {
      let node = doc.field("ports")?.sequence?[i]
      guard let port = PortMapping(text) else {
        throw doc.error(
          node, "ports[\(i)]",
          "\(ConfigValues.quote(text)) is not [HOSTADDR:]HOSTPORT:GUESTPORT/tcp|udp with ports 1 to 65535")
      }
      if let other = ports.first(where: { $0.clashes(with: port) }) {
        throw doc.error(node, "ports[\(i)]", "\(port.hostSide) is published by \(other) too")
      }
      ports.append(port)
    }
    return GuestRecord(
      name: name, kind: kind, image: image, profiles: profiles, config: config, command: command, created: created,
      ports: ports)
  }

  private static func check(_ doc: YAMLDocument, _ field: String, _ body: () throws(HostError) -> Void)
    throws(HostError)
  {
    do throws(HostError) { try body() } catch { throw doc.error(doc.field(field), field, error.message) }
  }

  /// The YAML text, keys sorted.
  public func yaml() throws(HostError) -> [UInt8] { try YAMLDocument.encode(self, path: "guest.yaml") }

  /// Writes the record atomically to `path`.
  public func write(to path: String) throws(HostError) {
    try YAMLDocument.write(try YAMLDocument.encode(self, path: path), to: path)
  }
}
