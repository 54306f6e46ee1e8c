/// One rtnetlink request: a message type, flags, the fixed family header (ifinfomsg, ifaddrmsg,
/// rtmsg) and attributes, with the words that name it in errors ("create bridge cbr1").
struct NetlinkRequest: Equatable, Sendable {
  let type: UInt16
  let flags: UInt16
  let header: [UInt8]
  let attributes: [NetlinkAttribute]
  let step: String

  /// Whether the answer is a multi-part dump ended by NLMSG_DONE rather than one acknowledgement.
  var isDump: Bool { flags & Netlink.Flag.dump == Netlink.Flag.dump }

  /// The message as sent: nlmsghdr (the kernel fills in nlmsg_pid), header, attributes.
  func encoded(sequence: UInt32) -> [UInt8] {
    let body = header + [UInt8](repeating: 0, count: NetlinkBytes.padding(header.count)) + attributes.flatMap(\.encoded)
    var bytes = NetlinkBytes.native(UInt32(Netlink.headerSize + body.count))
    bytes += NetlinkBytes.native(type)
    bytes += NetlinkBytes.native(flags)
    bytes += NetlinkBytes.native(sequence)
    bytes += NetlinkBytes.native(UInt32(0))
    return bytes + body
  }
}

/// The fixed headers of rtnetlink messages.
enum NetlinkHeader {
  /// struct ifinfomsg: family, padding, device type, index, flags and the mask of flags to change.
  static func link(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
    [Netlink.familyUnspecified, 0] + NetlinkBytes.native(UInt16(0)) + NetlinkBytes.native(index)
      + NetlinkBytes.native(flags) + NetlinkBytes.native(change)
  }

  /// struct ifaddrmsg for IPv4: family, prefix length, flags, scope, index.
  static func address(prefixLength: UInt8 = 0, index: UInt32 = 0) -> [UInt8] {
    [Netlink.familyIPv4, prefixLength, 0, Netlink.Route.scopeUniverse] + NetlinkBytes.native(index)
  }

  /// struct rtmsg for an IPv4 unicast route in the main table.
  static func route(destinationLength: UInt8) -> [UInt8] {
    [
      Netlink.familyIPv4, destinationLength, 0, 0, Netlink.Route.tableMain, Netlink.Route.protocolBoot,
      Netlink.Route.scopeUniverse, Netlink.Route.typeUnicast,
    ] + NetlinkBytes.native(UInt32(0))
  }
}
