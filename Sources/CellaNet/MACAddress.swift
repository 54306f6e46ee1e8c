import CellaSys

/// A 48-bit Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
  /// The six octets, as sent on the wire.
  public let octets: [UInt8]

  /// The address with these six octets.
  public init(_ octets: [UInt8]) {
    precondition(octets.count == 6, "a MAC address has six octets, not \(octets.count)")
    self.octets = octets
  }

  /// The address in `octets` as the kernel reports it, or nil unless there are six (a tun device has none).
  public init?(octets: [UInt8]) {
    guard octets.count == 6 else { return nil }
    self.octets = octets
  }

  /// Parses six two-digit hex octets separated by colons (either case); nil if malformed.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard part.count == 2, part.allSatisfy({ $0.isHexDigit && $0.isASCII }), let b = UInt8(part, radix: 16) else {
        return nil
      }
      bytes.append(b)
    }
    octets = bytes
  }

  /// Parses a MAC a guest NIC may use: well formed, unicast, not all zeros; one line naming `what` otherwise.
  public static func parseGuestMAC(_ text: String, what: String = "MAC address") throws(NetError) -> MACAddress {
    guard let mac = MACAddress(text) else {
      throw NetError(
        .invalidArgument, "\(what) \"\(text)\": not a MAC address (expected six hex octets, e.g. 02:00:5e:10:00:01)")
    }
    if mac.isMulticast {
      throw NetError(
        .invalidArgument, "\(what) \(mac): a multicast address (the first octet is odd); a NIC needs a unicast one")
    }
    if mac.octets.allSatisfy({ $0 == 0 }) {
      throw NetError(.invalidArgument, "\(what) \(mac): the all-zero address is not a valid NIC address")
    }
    return mac
  }

  /// The stable default MAC of NIC `index` of the guest `name`: 02 (locally administered, unicast)
  /// followed by the first five bytes of the 64-bit FNV-1a hash of the UTF-8 name, a zero byte and the
  /// decimal index. The same name and index always give the same address, so a guest keeps its MAC
  /// (and DHCP lease) across restarts and daemon upgrades; changing this function changes every default MAC.
  public static func stableDefault(name: String, nic index: Int) -> MACAddress {
    let hash = FNV1a.hash64(Array(name.utf8) + [0] + Array(String(index).utf8))
    return MACAddress([0x02] + (0..<5).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * UInt64($0))) })
  }

  /// Whether the group bit (the lowest bit of the first octet) is set: multicast and broadcast.
  public var isMulticast: Bool { octets[0] & 1 == 1 }
  /// Whether the address is unicast.
  public var isUnicast: Bool { !isMulticast }
  /// Whether the locally-administered bit (the second-lowest bit of the first octet) is set.
  public var isLocallyAdministered: Bool { octets[0] & 2 == 2 }

  /// Lowercase colon-separated hex, as `ip link` prints it.
  public var description: String {
    octets.map { b in
      let s = String(b, radix: 16)
      return b < 16 ? "0" + s : s
    }.joined(separator: ":")
  }
}
