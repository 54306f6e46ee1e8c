/// One IPv4 address the kernel holds on a link.
public struct AddressInfo: Sendable, Equatable {
  public let linkIndex: Int32
  public let address: IPv4Address
  public let prefixLength: UInt8
  public let broadcast: IPv4Address?

  /// The address an RTM_NEWADDR message describes; nil unless it is a well-formed IPv4 one.
  init?(_ reply: NetlinkReply) {
    typealias A = Netlink.AddressAttribute
    let headerSize = NetlinkHeader.address().count
    guard reply.type == Netlink.Message.newAddress, reply.payload.count >= headerSize,
      reply.payload[0] == Netlink.familyIPv4,
      let index = NetlinkBytes.read(Int32.self, reply.payload[...], at: 4)
    else { return nil }
    let attributes = NetlinkAttributes.parse(reply.payload[headerSize...])
    // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on point-to-point links.
    guard let address = (attributes[A.local] ?? attributes[A.address]).flatMap({ IPv4Address(octets: $0) }) else {
      return nil
    }
    self.linkIndex = index
    self.address = address
    self.prefixLength = reply.payload[1]
    self.broadcast = attributes[A.broadcast].flatMap { IPv4Address(octets: $0) }
  }
}
