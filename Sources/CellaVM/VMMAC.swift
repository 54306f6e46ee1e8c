/// A NIC's MAC address as QEMU gets it: six colon-separated hex octets, lowercase.
public enum VMMAC {
  /// The canonical form of `text`, or an error naming `field` (not six octets, multicast, all zero).
  public static func normalize(_ text: String, field: String) throws(VMError) -> String {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    var octets: [UInt8] = []
    for part in parts {
      guard part.count == 2, let octet = UInt8(part, radix: 16) else { break }
      octets.append(octet)
    }
    guard parts.count == 6, octets.count == 6 else {
      throw VMError(
        .invalidArgument, "\(field): \(String(reflecting: text)) is not a MAC address (like 52:54:00:12:34:56)")
    }
    if octets[0] & 1 != 0 {
      throw VMError(.invalidArgument, "\(field): \(text) is a multicast address; a NIC needs a unicast one")
    }
    if octets.allSatisfy({ $0 == 0 }) {
      throw VMError(.invalidArgument, "\(field): 00:00:00:00:00:00 is not a usable address")
    }
    return octets.map { hex2($0) }.joined(separator: ":")
  }

  private static func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return b < 16 ? "0" + s : s
  }
}
