/// What cella's nftables tables are built from: its networks, the guest ports on them and the
/// published ports. Pure data; `NftRuleset` turns it into rules.
public struct NftModel: Sendable, Equatable {
  /// A cella network: a bridge with its subnet.
  public struct Network: Sendable, Equatable {
    /// The bridge device.
    public var bridge: String
    /// The network's range.
    public var subnet: IPv4Subnet
    /// Whether guests reach the outside with the host's address (masquerade).
    public var nat: Bool
    /// Whether guests of this network are kept from reaching each other.
    public var isolated: Bool
    /// The bridge's own address: the only host address its guests may reach (DNS, DHCP, ping).
    public var gateway: IPv4Address

    /// A network whose gateway is `gateway`, else its subnet's first host.
    public init(bridge: String, subnet: IPv4Subnet, nat: Bool, isolated: Bool, gateway: IPv4Address? = nil) {
      self.bridge = bridge
      self.subnet = subnet
      self.nat = nat
      self.isolated = isolated
      self.gateway = gateway ?? subnet.gateway
    }
  }

  /// A guest's NIC as the host sees it: the host end of its veth (or its tap) on a bridge, and the only
  /// MAC and IPv4 address it may send from.
  public struct GuestPort: Sendable, Equatable {
    /// The host-side device (veth end or tap), a port of `bridge`.
    public var interface: String
    /// The bridge the port is on.
    public var bridge: String
    public var mac: MACAddress
    public var ipv4: IPv4Address

    public init(interface: String, bridge: String, mac: MACAddress, ipv4: IPv4Address) {
      self.interface = interface
      self.bridge = bridge
      self.mac = mac
      self.ipv4 = ipv4
    }
  }

  /// A transport protocol a port may be published for.
  public enum TransportProtocol: String, Sendable, Equatable, CaseIterable {
    case tcp, udp
  }

  /// A host port forwarded to a guest's port.
  public struct PublishedPort: Sendable, Equatable {
    public var proto: TransportProtocol
    public var hostPort: UInt16
    /// Only connections to this host address; nil: to any local address of the host.
    public var hostAddress: IPv4Address?
    public var guestAddress: IPv4Address
    public var guestPort: UInt16

    public init(
      proto: TransportProtocol, hostPort: UInt16, hostAddress: IPv4Address? = nil, guestAddress: IPv4Address,
      guestPort: UInt16
    ) {
      self.proto = proto
      self.hostPort = hostPort
      self.hostAddress = hostAddress
      self.guestAddress = guestAddress
      self.guestPort = guestPort
    }
  }

  public var networks: [Network]
  public var ports: [GuestPort]
  public var published: [PublishedPort]
  /// Who the tables belong to (the manager names its state directory), kept as the comment of a rule in
  /// an `owner` chain of `inet cella`: nft 1.0.6's JSON drops table comments, a rule's it keeps. Nil: no mark.
  public var owner: String?

  public init(
    networks: [Network] = [], ports: [GuestPort] = [], published: [PublishedPort] = [], owner: String? = nil
  ) {
    self.networks = networks
    self.ports = ports
    self.published = published
    self.owner = owner
  }
}
