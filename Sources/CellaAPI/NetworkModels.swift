/// A cella network as the API shows it.
public struct NetworkInfo: Codable, Sendable, Equatable {
  public var name: String
  /// The network's range, `10.210.0.0/24`.
  public var subnet: String
  /// The bridge's own address: the guests' default route, DNS server and DHCP server.
  public var gateway: String
  /// Whether guests reach the outside with the host's address.
  public var nat: Bool
  /// Whether guests of this network are kept from reaching each other.
  public var isolated: Bool
  /// The Linux bridge that carries it (a short name cella derives).
  public var bridge: String
  public var created: String
  /// The NICs on it, by guest and NIC index.
  public var members: [NetworkMember]
  /// The pid of the network's dnsmasq, when it runs.
  public var dnsmasqPID: Int?
  /// Something on the host keeps the network from working as asked (e.g. Docker's FORWARD DROP), and
  /// how the admin fixes it.
  public var warning: String?
  public init(
    name: String, subnet: String, gateway: String, nat: Bool, isolated: Bool, bridge: String, created: String,
    members: [NetworkMember] = [], dnsmasqPID: Int? = nil, warning: String? = nil
  ) {
    self.name = name
    self.subnet = subnet
    self.gateway = gateway
    self.nat = nat
    self.isolated = isolated
    self.bridge = bridge
    self.created = created
    self.members = members
    self.dnsmasqPID = dnsmasqPID
    self.warning = warning
  }
}

/// One guest NIC on a network.
public struct NetworkMember: Codable, Sendable, Equatable {
  public var guest: String
  /// The NIC's index N (`nic.N.*`).
  public var nic: Int
  public var ipv4: String
  public var mac: String
  public init(guest: String, nic: Int, ipv4: String, mac: String) {
    self.guest = guest
    self.nic = nic
    self.ipv4 = ipv4
    self.mac = mac
  }
}

/// `POST /1.0/networks`.
public struct CreateNetworkRequest: Codable, Sendable, Equatable {
  public var name: String
  /// A CIDR; nil: a free private /24 cella picks.
  public var subnet: String?
  /// The bridge's address in `subnet`; nil: its first host address.
  public var gateway: String?
  /// Masquerade to the outside (default true).
  public var nat: Bool?
  /// Keep guests of this network from reaching each other (default false).
  public var isolated: Bool?
  public init(
    name: String, subnet: String? = nil, gateway: String? = nil, nat: Bool? = nil, isolated: Bool? = nil
  ) {
    self.name = name
    self.subnet = subnet
    self.gateway = gateway
    self.nat = nat
    self.isolated = isolated
  }
}

/// A guest's NIC as `info` shows it.
public struct GuestNICInfo: Codable, Sendable, Equatable {
  /// N of `nic.N.*`.
  public var index: Int
  /// The name inside the guest (`eth0`, `eth1`, …).
  public var name: String
  public var network: String
  public var ipv4: String?
  public var mac: String
  /// The host end (veth or tap), while the guest runs.
  public var hostInterface: String?
  public init(index: Int, name: String, network: String, ipv4: String?, mac: String, hostInterface: String? = nil) {
    self.index = index
    self.name = name
    self.network = network
    self.ipv4 = ipv4
    self.mac = mac
    self.hostInterface = hostInterface
  }
}

/// A port of the host forwarded to a guest.
public struct PublishedPortInfo: Codable, Sendable, Equatable {
  /// `tcp` or `udp`.
  public var proto: String
  public var hostPort: Int
  public var guestPort: Int
  /// Only connections to this host address; nil: any address of the host.
  public var hostAddress: String?
  /// The guest's address the port goes to (its first NIC's), when it has one.
  public var guestAddress: String?
  public init(proto: String, hostPort: Int, guestPort: Int, hostAddress: String? = nil, guestAddress: String? = nil) {
    self.proto = proto
    self.hostPort = hostPort
    self.guestPort = guestPort
    self.hostAddress = hostAddress
    self.guestAddress = guestAddress
  }
}

/// `POST /1.0/guests/NAME/ports`.
public struct AddPortRequest: Codable, Sendable, Equatable {
  /// `tcp` (default) or `udp`.
  public var proto: String?
  public var hostPort: Int
  public var guestPort: Int
  public var hostAddress: String?
  public init(proto: String? = nil, hostPort: Int, guestPort: Int, hostAddress: String? = nil) {
    self.proto = proto
    self.hostPort = hostPort
    self.guestPort = guestPort
    self.hostAddress = hostAddress
  }
}
