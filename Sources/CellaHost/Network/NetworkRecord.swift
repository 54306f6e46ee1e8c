import CellaAPI
import CellaNet

/// What `networks/NAME/network.yaml` holds: a network as it was made, and how far its making got.
public struct NetworkRecord: Sendable, Equatable, Encodable {
  /// How far a network's life has got: written before each step, so that a daemon killed at any step
  /// knows whether to finish or undo it.
  public enum Phase: String, Sendable, Codable, CaseIterable {
    /// Recorded; its kernel objects may be partly made. A new daemon removes it.
    case creating
    /// Complete; a new daemon re-creates whatever of it is missing.
    case ready
    /// Being removed; a new daemon finishes that.
    case deleting
  }

  public var name: String
  public var subnet: IPv4Subnet
  public var gateway: IPv4Address
  public var nat: Bool
  public var isolated: Bool
  /// The bridge device (derived, at most 15 bytes).
  public var bridge: String
  public var created: String
  public var phase: Phase

  public init(
    name: String, subnet: IPv4Subnet, gateway: IPv4Address, nat: Bool, isolated: Bool, bridge: String,
    created: String, phase: Phase
  ) {
    self.name = name
    self.subnet = subnet
    self.gateway = gateway
    self.nat = nat
    self.isolated = isolated
    self.bridge = bridge
    self.created = created
    self.phase = phase
  }

  static let fields: Set<String> = ["name", "subnet", "gateway", "nat", "isolated", "bridge", "created", "phase"]

  enum CodingKeys: String, CodingKey { case name, subnet, gateway, nat, isolated, bridge, created, phase }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(subnet.description, forKey: .subnet)
    try c.encode(gateway.description, forKey: .gateway)
    try c.encode(nat, forKey: .nat)
    try c.encode(isolated, forKey: .isolated)
    try c.encode(bridge, forKey: .bridge)
    try c.encode(created, forKey: .created)
    try c.encode(phase, forKey: .phase)
  }

  /// Reads `path`, the record of network `name` (its directory's name): any problem is one line with
  /// the file, line and column. The name must be the directory's and the bridge one cella derives, so a
  /// hand-made or hostile file never points the daemon at another network's or the host's links.
  public static func read(_ path: String, name expected: String) throws(HostError) -> NetworkRecord {
    let doc = try YAMLDocument.read(path)
    try doc.refuseUnknown(fields)
    func parsed<T>(_ field: String, _ parse: (String) throws(NetError) -> T) throws(HostError) -> T {
      let text = try doc.string(field)
      do { return try parse(text) } catch { throw doc.error(doc.field(field), field, error.message) }
    }
    func flag(_ field: String) throws(HostError) -> Bool {
      let text = try doc.string(field)
      guard let b = ConfigValues.bool(text) else {
        throw doc.error(doc.field(field), field, "\(ConfigValues.quote(text)) is not true or false")
      }
      return b
    }
    let name = try doc.string("name")
    do throws(HostError) { try Names.check(name, as: "network") } catch {
      throw doc.error(doc.field("name"), "name", error.message)
    }
    guard name == expected else {
      throw doc.error(
        doc.field("name"), "name", "\(ConfigValues.quote(name)) is not the network of its directory, \(expected)")
    }
    let subnet = try parsed("subnet") { (t) throws(NetError) in try IPv4Subnet.parseGuestNetwork(t) }
    let gateway = try parsed("gateway") { (t) throws(NetError) in try IPv4Address.parse(t) }
    do throws(NetError) { try subnet.checkGateway(gateway) } catch {
      throw doc.error(doc.field("gateway"), "gateway", error.message)
    }
    let bridge = try parsed("bridge") { (t) throws(NetError) in try NetlinkSocket.checked(t) }
    guard bridge.hasPrefix(BridgeName.prefix) else {
      throw doc.error(
        doc.field("bridge"), "bridge", "\(ConfigValues.quote(bridge)) is no name cella gives (\(BridgeName.prefix)…)")
    }
    let phaseText = try doc.string("phase")
    guard let phase = Phase(rawValue: phaseText) else {
      throw doc.error(
        doc.field("phase"), "phase",
        "\(ConfigValues.quote(phaseText)) is not \(Phase.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return NetworkRecord(
      name: name, subnet: subnet, gateway: gateway, nat: try flag("nat"), isolated: try flag("isolated"),
      bridge: bridge, created: try doc.string("created"), phase: phase)
  }

  /// Writes the record atomically to `path`.
  public func write(to path: String) throws(HostError) {
    try YAMLDocument.write(try YAMLDocument.encode(self, path: path), to: path)
  }
}
