/// What the kernel says about one link.
public struct LinkInfo: Sendable, Equatable {
  public let index: Int32
  public let name: String
  /// IFLA_INFO_KIND ("bridge", "veth", "tun"), nil for a physical or loopback device.
  public let kind: String?
  /// Whether IFF_UP is set (administratively up).
  public let isUp: Bool
  public let mtu: UInt32?
  public let mac: MACAddress?
  /// The index of the bridge this link is a port of.
  public let masterIndex: Int32?

  /// The link an RTM_NEWLINK message describes; nil when it is too short for its ifinfomsg or has no name.
  init?(_ reply: NetlinkReply) {
    typealias A = Netlink.LinkAttribute
    let headerSize = NetlinkHeader.link().count
    guard reply.type == Netlink.Message.newLink, reply.payload.count >= headerSize,
      let index = NetlinkBytes.read(Int32.self, reply.payload[...], at: 4),
      let flags = NetlinkBytes.read(UInt32.self, reply.payload[...], at: 8)
    else { return nil }
    let attributes = NetlinkAttributes.parse(reply.payload[headerSize...])
    guard let name = attributes[A.name].map(NetlinkAttributes.string) else { return nil }
    self.index = index
    self.name = name
    self.isUp = flags & Netlink.interfaceUp != 0
    self.mtu = NetlinkAttributes.uint32(attributes[A.mtu])
    self.mac = attributes[A.address].flatMap { MACAddress(octets: $0) }
    self.masterIndex = NetlinkAttributes.uint32(attributes[A.master]).map { Int32(bitPattern: $0) }
    let info = attributes[A.linkInfo].map { NetlinkAttributes.parse($0[...]) }
    self.kind = info?[A.infoKind].map(NetlinkAttributes.string)
  }
}
