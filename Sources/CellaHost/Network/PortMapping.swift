import CellaAPI
import CellaNet

/// A host port published to a guest (`cella port add`), as guest.yaml's `ports` list holds it:
/// `[HOSTADDR:]HOSTPORT:GUESTPORT/PROTO`, e.g. `8080:80/tcp` or `192.0.2.10:5353:53/udp`.
public struct PortMapping: Sendable, Hashable, Encodable, CustomStringConvertible {
  public var proto: NftModel.TransportProtocol
  public var hostPort: UInt16
  public var guestPort: UInt16
  /// Only connections to this host address; nil: to any address of the host.
  public var hostAddress: IPv4Address?

  public init(proto: NftModel.TransportProtocol, hostPort: UInt16, guestPort: UInt16, hostAddress: IPv4Address? = nil) {
    self.proto = proto
    self.hostPort = hostPort
    self.guestPort = guestPort
    self.hostAddress = hostAddress
  }

  /// The ports a mapping may use.
  public static let ports = 1...65535

  /// The mapping an API request asks for; bad values are one line naming the field.
  public init(_ request: AddPortRequest) throws(HostError) {
    let protoText = request.proto ?? NftModel.TransportProtocol.tcp.rawValue
    guard let proto = NftModel.TransportProtocol(rawValue: protoText) else {
      throw HostError(.invalidArgument, "--proto: \(ConfigValues.quote(protoText)) is not tcp or udp")
    }
    var address: IPv4Address?
    if let text = request.hostAddress {
      guard let a = IPv4Address(text) else {
        throw HostError(.invalidArgument, "--address: \(ConfigValues.quote(text)) is not an IPv4 address")
      }
      if let why = Self.unpublishable(a) { throw HostError(.invalidArgument, "--address: \(a): \(why)") }
      address = a
    }
    self.init(
      proto: proto, hostPort: try Self.port(request.hostPort, "host port"),
      guestPort: try Self.port(request.guestPort, "guest port"), hostAddress: address)
  }

  /// Why connections to host address `a` can never reach a published port (nil: they can). Loopback
  /// traffic never passes the prerouting hook that forwards ports, 0.0.0.0, multicast and broadcast
  /// are no destination of a connection: such a mapping would match nothing and still hold the port.
  public static func unpublishable(_ a: IPv4Address) -> String? {
    switch a.value >> 24 {
    case 127: return "a loopback address, which cannot be published (leave --address out for every address)"
    case 0: return "not a host address (leave --address out for every address)"
    case 224...239: return "a multicast address, not a host's"
    case 255 where a.value == UInt32.max: return "the broadcast address, not a host's"
    default: return nil
    }
  }

  /// `n` as a port; out of range is one line naming `what`.
  public static func port(_ n: Int, _ what: String) throws(HostError) -> UInt16 {
    guard ports.contains(n) else {
      throw HostError(.invalidArgument, "\(what) \(n): outside \(ports.lowerBound) to \(ports.upperBound)")
    }
    return UInt16(n)
  }

  /// Parses guest.yaml's text form; nil when it is not one.
  public init?(_ text: String) {
    let slash = text.split(separator: "/", omittingEmptySubsequences: false)
    guard slash.count == 2, let proto = NftModel.TransportProtocol(rawValue: String(slash[1])) else { return nil }
    let parts = slash[0].split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 || parts.count == 3 else { return nil }
    func port(_ s: Substring) -> UInt16? {
      guard let n = ConfigValues.integer(String(s), in: Int64(Self.ports.lowerBound)...Int64(Self.ports.upperBound)),
        String(n) == s
      else { return nil }
      return UInt16(n)
    }
    guard let host = port(parts[parts.count - 2]), let guest = port(parts[parts.count - 1]) else { return nil }
    var address: IPv4Address?
    if parts.count == 3 {
      guard let a = IPv4Address(parts[0]) else { return nil }
      address = a
    }
    self.init(proto: proto, hostPort: host, guestPort: guest, hostAddress: address)
  }

  public var description: String {
    "\(hostAddress.map { "\($0):" } ?? "")\(hostPort):\(guestPort)/\(proto.rawValue)"
  }

  /// How `port list` and errors name the host side: `tcp/8080`, `tcp/127.0.0.1:8080`.
  public var hostSide: String { "\(proto.rawValue)/\(hostAddress.map { "\($0):" } ?? "")\(hostPort)" }

  /// Whether the two take the same host port: same protocol and port, and an address in common (no
  /// address means every address of the host).
  public func clashes(with other: PortMapping) -> Bool {
    proto == other.proto && hostPort == other.hostPort
      && (hostAddress == nil || other.hostAddress == nil || hostAddress == other.hostAddress)
  }

  /// The API's view, with the guest address it goes to when known.
  public func info(guestAddress: IPv4Address?) -> PublishedPortInfo {
    PublishedPortInfo(
      proto: proto.rawValue, hostPort: Int(hostPort), guestPort: Int(guestPort), hostAddress: hostAddress?.description,
      guestAddress: guestAddress?.description)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}
