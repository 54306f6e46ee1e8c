/// An Ethernet (MAC) address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
  /// The six bytes, first on the wire first.
  public let bytes: [UInt8]

  /// The address of six `bytes`; nil for any other count.
  public init?(bytes: [UInt8]) {
    guard bytes.count == 6 else { return nil }
    self.bytes = bytes
  }

  /// Parses "02:00:0a:00:00:05" (either case); nil for anything else.
  public init?(_ text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
      guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
      bytes.append(byte)
    }
    self.bytes = bytes
  }

  /// Whether the group bit is set: such an address cannot be a NIC's own.
  public var isMulticast: Bool { bytes[0] & 1 != 0 }

  public var description: String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
  }
}
