/// An IPv4 network in CIDR form: a network address with its host bits zero and a prefix length.
public struct IPv4Subnet: Hashable, Sendable, CustomStringConvertible {
  /// The first address of the range (host bits zero).
  public let network: IPv4Address
  /// The number of leading network bits, 0...32.
  public let prefixLength: Int

  /// The longest prefix a guest network may have: a /29 holds the gateway and five guests; a /30
  /// would hold one guest, a /31 or /32 none once network and broadcast addresses are set aside.
  public static let narrowestGuestPrefix = 29
  /// The shortest prefix a guest network may have: wider ranges only cover others' networks.
  public static let widestGuestPrefix = 8

  /// The network of `address` with `prefixLength` bits (host bits cleared); `prefixLength` must be 0...32.
  public init(containing address: IPv4Address, prefixLength: Int) {
    precondition((0...32).contains(prefixLength), "prefix length \(prefixLength) outside 0...32")
    self.prefixLength = prefixLength
    network = IPv4Address(address.value & IPv4Subnet.mask(prefixLength))
  }

  /// The netmask of a prefix length as a host-order number.
  static func mask(_ prefixLength: Int) -> UInt32 {
    prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
  }

  /// Parses "A.B.C.D/N"; refuses host bits (naming the network meant) and any malformed text, one line each.
  public static func parse(_ text: String, what: String = "subnet") throws(NetError) -> IPv4Subnet {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let address = IPv4Address(parts[0]), parts[1].count <= 2,
      parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]), (0...32).contains(length)
    else {
      throw NetError(
        .invalidArgument, "\(what) \"\(text)\": not a CIDR subnet (expected ADDRESS/PREFIX, e.g. 10.210.0.0/24)")
    }
    let subnet = IPv4Subnet(containing: address, prefixLength: length)
    guard subnet.network == address else {
      throw NetError(.invalidArgument, "\(what) \"\(text)\": host bits are set; the network is \(subnet)")
    }
    return subnet
  }

  /// Parses a subnet for guests: a CIDR that `checkHoldsGuests` accepts.
  public static func parseGuestNetwork(_ text: String, what: String = "subnet") throws(NetError) -> IPv4Subnet {
    let subnet = try parse(text, what: what)
    try subnet.checkHoldsGuests(what: what)
    return subnet
  }

  /// Refuses a prefix too long to hold a gateway and guests, or too short to be one network's.
  public func checkHoldsGuests(what: String = "subnet") throws(NetError) {
    if prefixLength > Self.narrowestGuestPrefix {
      throw NetError(
        .invalidArgument,
        "\(what) \(self): too small for guests; the smallest is /\(Self.narrowestGuestPrefix) (a gateway and five guests)"
      )
    }
    if prefixLength < Self.widestGuestPrefix {
      throw NetError(.invalidArgument, "\(what) \(self): too large; the largest is /\(Self.widestGuestPrefix)")
    }
  }

  /// The netmask, e.g. 255.255.255.0 for a /24.
  public var netmask: IPv4Address { IPv4Address(Self.mask(prefixLength)) }
  /// The last address of the range.
  public var broadcast: IPv4Address { IPv4Address(network.value | ~Self.mask(prefixLength)) }
  /// The default gateway: the first host address.
  public var gateway: IPv4Address { firstHost }
  /// The first address after the network address (for a /31 or /32, the network address itself).
  public var firstHost: IPv4Address { prefixLength >= 31 ? network : IPv4Address(network.value + 1) }
  /// The last address before the broadcast address (for a /31 or /32, the broadcast address itself).
  public var lastHost: IPv4Address { prefixLength >= 31 ? broadcast : IPv4Address(broadcast.value - 1) }
  /// The number of addresses in the range.
  public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

  /// Whether `address` lies in the range (network and broadcast addresses included).
  public func contains(_ address: IPv4Address) -> Bool {
    address.value & Self.mask(prefixLength) == network.value
  }

  /// Whether the two ranges share any address (one then contains the other's network address).
  public func overlaps(_ other: IPv4Subnet) -> Bool {
    let shorter = min(prefixLength, other.prefixLength)
    return network.value & Self.mask(shorter) == other.network.value & Self.mask(shorter)
  }

  /// Refuses a gateway outside the range or on its network or broadcast address.
  public func checkGateway(_ gateway: IPv4Address, what: String = "gateway") throws(NetError) {
    guard contains(gateway) else {
      throw NetError(.invalidArgument, "\(what) \(gateway): outside the subnet \(self)")
    }
    if gateway == network {
      throw NetError(.invalidArgument, "\(what) \(gateway): the network address of \(self), not a host")
    }
    if gateway == broadcast {
      throw NetError(.invalidArgument, "\(what) \(gateway): the broadcast address of \(self), not a host")
    }
  }

  /// Refuses a guest address outside the range or equal to its network, gateway or broadcast address.
  public func checkGuestAddress(_ address: IPv4Address, gateway: IPv4Address, what: String = "address") throws(NetError)
  {
    try checkGateway(address, what: what)
    if address == gateway {
      throw NetError(.invalidArgument, "\(what) \(address): the gateway of \(self), not free for a guest")
    }
  }

  public var description: String { "\(network)/\(prefixLength)" }
}
