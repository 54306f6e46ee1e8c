/// An IPv4 address.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
  /// The address as a number (10.0.0.1 is 0x0A00_0001).
  public let value: UInt32

  public init(_ value: UInt32) { self.value = value }

  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// Parses dotted-quad text ("10.0.0.1"); nil for anything else.
  public init?(_ text: String) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
      guard (1...3).contains(part.count), part.allSatisfy({ $0 >= "0" && $0 <= "9" }), let byte = UInt8(part),
        part.count == 1 || part.first != "0"
      else { return nil }
      value = value << 8 | UInt32(byte)
    }
    self.value = value
  }

  /// The four bytes in network order, as netlink carries addresses.
  public var bytes: [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
  }

  /// The address in `bytes` (network order), or nil unless there are exactly four.
  init?(bytes: [UInt8]) {
    guard bytes.count == 4 else { return nil }
    self.init(bytes[0], bytes[1], bytes[2], bytes[3])
  }

  public var description: String { bytes.map(String.init).joined(separator: ".") }
}
