import CellaSys

/// One IPv4 route of the main table: where it goes and through which device.
public struct IPv4Route: Hashable, Sendable {
  /// The device the route leaves by.
  public let interface: String
  /// The destination range (0.0.0.0/0 for a default route).
  public let destination: IPv4Subnet
  /// The next hop, nil for a directly connected range.
  public let gateway: IPv4Address?
}

/// The IPv4 routes of the main table as /proc/net/route lists them (the routing table of the reader's
/// network namespace; policy-routing tables other than main are not listed there).
public enum IPv4RouteTable {
  /// The RTF_UP flag: the route is usable.
  static let up: UInt32 = 0x1

  /// Reads and parses /proc/net/route (or `path`).
  public static func read(path: String = "/proc/net/route") throws(NetError) -> [IPv4Route] {
    let text: String
    do {
      text = try FileIO.readString(path)
    } catch {
      throw NetError(error.kind, "read routes: \(error.message)")
    }
    return parse(text)
  }

  /// Parses the text of /proc/net/route: a header line, then whitespace-separated columns of which
  /// Destination, Gateway and Mask are the kernel's network-order words printed as host-order hex.
  /// Lines that do not parse, routes that are not up, and non-contiguous masks are skipped.
  public static func parse(_ text: String) -> [IPv4Route] {
    var routes: [IPv4Route] = []
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard f.count >= 8, let dst = word(f[1]), let gw = word(f[2]), let flags = UInt32(f[3], radix: 16),
        let mask = word(f[7]), flags & up != 0
      else { continue }
      let length = mask.value.leadingZeroBitCount == 0 ? (~mask.value).leadingZeroBitCount : 0
      guard IPv4Subnet.mask(length) == mask.value else { continue }
      routes.append(
        IPv4Route(
          interface: String(f[0]), destination: IPv4Subnet(containing: dst, prefixLength: length),
          gateway: gw.value == 0 ? nil : gw))
    }
    return routes
  }

  /// A column's hex word: the bytes of an address in network order, read by the kernel as a host
  /// integer, so converting it back is "from big endian" on any host.
  private static func word(_ hex: Substring) -> IPv4Address? {
    guard hex.count == 8, let v = UInt32(hex, radix: 16) else { return nil }
    return IPv4Address(UInt32(bigEndian: v))
  }
}
