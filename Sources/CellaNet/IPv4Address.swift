/// An IPv4 address as a host-order 32-bit number.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The address, most significant octet first (10.0.0.1 is 0x0A00_0001).
  public let value: UInt32

  /// The address with this host-order value.
  public init(_ value: UInt32) { self.value = value }

  /// The address a.b.c.d.
  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// Parses dotted-quad text (four decimal octets, no leading zeros, as the kernel prints them); nil if malformed.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var v: UInt32 = 0
    for part in parts {
      // Leading zeros are refused: inet_aton reads "010" as octal, so such text means different
      // addresses to different tools.
      guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
        part.count == 1 || part.first != "0", let octet = UInt8(part)
      else { return nil }
      v = v << 8 | UInt32(octet)
    }
    value = v
  }

  /// Parses dotted-quad text or throws one line naming `what` and the text.
  public static func parse(_ text: String, what: String = "IPv4 address") throws(NetError) -> IPv4Address {
    guard let a = IPv4Address(text) else {
      throw NetError(
        .invalidArgument, "\(what) \"\(text)\": not an IPv4 address (expected four numbers 0-255, e.g. 10.0.0.2)")
    }
    return a
  }

  /// The four octets, most significant first.
  public var octets: [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
  }

  /// The address in `octets` (network order, as netlink carries it), or nil unless there are four.
  public init?(octets: [UInt8]) {
    guard octets.count == 4 else { return nil }
    self.init(octets[0], octets[1], octets[2], octets[3])
  }

  public var description: String { octets.map { String($0) }.joined(separator: ".") }

  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}
