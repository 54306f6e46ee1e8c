import CellaNet

/// `boot.restart`: what the daemon does when a guest's init ends without `cella stop`.
public enum RestartPolicy: Sendable, Equatable {
  /// Leave it stopped.
  case no
  /// Restart it when it exited non-zero or was killed; at most `maxRetries` times in a row when given.
  case onFailure(maxRetries: Int?)
  /// Restart it however it ended.
  case always

  /// Parses `no`, `on-failure`, `on-failure:N` (N ≥ 1) or `always`.
  public init?(_ text: String) {
    switch text {
    case "no": self = .no
    case "always": self = .always
    case "on-failure": self = .onFailure(maxRetries: nil)
    default:
      guard text.hasPrefix("on-failure:"),
        let n = ConfigValues.integer(String(text.dropFirst("on-failure:".count)), in: 1...1_000_000)
      else { return nil }
      self = .onFailure(maxRetries: Int(n))
    }
  }
}

/// `security.profile`: the seccomp filter of a guest.
public enum SecurityProfile: Sendable, Equatable {
  /// The runtime's default profile (Profiles/seccomp/default.json).
  case `default`
  /// Profiles/seccomp/strict.json: the default minus what services rarely need.
  case strict
  /// An OCI `linux.seccomp` JSON file on the host, read at each start.
  case file(String)

  /// `default`, `strict`, or anything else as a path (checked by the key table).
  public init(_ text: String) {
    switch text {
    case "default": self = .default
    case "strict": self = .strict
    default: self = .file(text)
    }
  }
}

/// One `disk.NAME.*` group: a host directory bound into the guest.
public struct GuestDisk: Sendable, Equatable {
  /// NAME in `disk.NAME.*`.
  public var name: String
  /// The host directory (`disk.NAME.source`).
  public var source: String
  /// Where it appears in the guest (`disk.NAME.path`).
  public var path: String
  /// Bound read-only (`disk.NAME.readonly`).
  public var readonly: Bool
  /// Idmapped onto a userns guest's host ids (`disk.NAME.shift`).
  public var shift: Bool
  /// A VM's writes are discarded when it stops (`disk.NAME.volatile`).
  public var volatile: Bool = false

  public init(name: String, source: String, path: String, readonly: Bool, shift: Bool = false, volatile: Bool = false) {
    self.volatile = volatile
    self.name = name
    self.source = source
    self.path = path
    self.readonly = readonly
    self.shift = shift
  }
}

/// One `nic.N.*` group: a NIC on a cella network.
public struct GuestNIC: Sendable, Equatable {
  /// N in `nic.N.*`; the guest sees the NIC as `ethN`.
  public var index: Int
  /// The network it joins (`nic.N.network`).
  public var network: String
  /// The static address (`nic.N.ipv4`); nil: `auto`.
  public var ipv4: IPv4Address?
  /// The MAC address (`nic.N.mac`); nil: the stable default of the guest's name and N.
  public var mac: MACAddress?

  public init(index: Int, network: String, ipv4: IPv4Address? = nil, mac: MACAddress? = nil) {
    self.index = index
    self.network = network
    self.ipv4 = ipv4
    self.mac = mac
  }

  /// The name of the NIC inside the guest.
  public var interfaceName: String { Self.interfaceName(index) }

  /// The name of NIC `index` inside a guest.
  public static func interfaceName(_ index: Int) -> String { "eth\(index)" }

  /// The MAC address it has in guest `guest`.
  public func mac(guest: String) -> MACAddress { mac ?? MACAddress.stableDefault(name: guest, nic: index) }

  /// How it asks IPAM for its address.
  public var request: IPAMRequest { ipv4.map { .static($0) } ?? .auto }

  /// Its IPAM owner in guest `guest`: `GUEST/N`.
  public func owner(guest: String) -> String { "\(guest)/\(index)" }
}
