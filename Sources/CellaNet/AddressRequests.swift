/// The rtnetlink requests of IPv4 address operations, built without I/O so their bytes can be tested.
enum AddressRequests {
  private typealias A = Netlink.AddressAttribute

  /// RTM_NEWADDR (or RTM_DELADDR) of `address`/`prefixLength` on link `index` (called `link`), with
  /// `broadcast` if given.
  static func change(
    add: Bool, _ address: IPv4Address, prefixLength: UInt8, broadcast: IPv4Address?, index: Int32, link: String
  ) -> NetlinkRequest {
    var attributes: [NetlinkAttribute] = [.init(A.local, address.octets), .init(A.address, address.octets)]
    if let broadcast { attributes.append(.init(A.broadcast, broadcast.octets)) }
    var flags = Netlink.Flag.request | Netlink.Flag.ack
    if add { flags |= Netlink.Flag.create | Netlink.Flag.exclusive }
    return NetlinkRequest(
      type: add ? Netlink.Message.newAddress : Netlink.Message.deleteAddress, flags: flags,
      header: NetlinkHeader.address(prefixLength: prefixLength, index: UInt32(bitPattern: index)),
      attributes: attributes,
      step: "\(add ? "add" : "delete") address \(address)/\(prefixLength) \(add ? "to" : "from") link \(link)")
  }

  /// RTM_GETADDR of every IPv4 address.
  static func dump() -> NetlinkRequest {
    NetlinkRequest(
      type: Netlink.Message.getAddress, flags: Netlink.Flag.request | Netlink.Flag.dump,
      header: NetlinkHeader.address(), attributes: [], step: "list addresses")
  }
}
