/// The rtnetlink requests of link operations, built without I/O so their bytes can be tested.
enum LinkRequests {
  private typealias A = Netlink.LinkAttribute
  private static let acked = Netlink.Flag.request | Netlink.Flag.ack
  private static let creating = acked | Netlink.Flag.create | Netlink.Flag.exclusive

  /// RTM_NEWLINK of a new bridge `name`.
  static func createBridge(_ name: String) -> NetlinkRequest {
    NetlinkRequest(
      type: Netlink.Message.newLink, flags: creating, header: NetlinkHeader.link(),
      attributes: [.string(A.name, name), .nested(A.linkInfo, [.string(A.infoKind, "bridge")])],
      step: "create bridge \(name)")
  }

  /// RTM_NEWLINK of a veth pair `name`–`peer`, the peer made directly in `peerNamespace` if given.
  static func createVeth(_ name: String, peer: String, peerNamespace: NamespaceTarget?) -> NetlinkRequest {
    var peerAttributes: [NetlinkAttribute] = [.string(A.name, peer)]
    if let peerNamespace { peerAttributes.append(peerNamespace.attribute) }
    let info = NetlinkAttribute.nested(
      A.linkInfo,
      [
        .string(A.infoKind, "veth"),
        .nested(A.infoData, [.nested(A.vethPeer, header: NetlinkHeader.link(), peerAttributes)]),
      ])
    let place = peerNamespace.map { " in \($0.words)" } ?? ""
    return NetlinkRequest(
      type: Netlink.Message.newLink, flags: creating, header: NetlinkHeader.link(),
      attributes: [.string(A.name, name), info], step: "create veth pair \(name) and \(peer)\(place)")
  }

  /// RTM_DELLINK of `name`.
  static func delete(_ name: String) -> NetlinkRequest {
    NetlinkRequest(
      type: Netlink.Message.deleteLink, flags: acked, header: NetlinkHeader.link(),
      attributes: [.string(A.name, name)], step: "delete link \(name)")
  }

  /// RTM_GETLINK of `name` alone.
  static func get(_ name: String) -> NetlinkRequest {
    NetlinkRequest(
      type: Netlink.Message.getLink, flags: acked, header: NetlinkHeader.link(),
      attributes: [.string(A.name, name)], step: "find link \(name)")
  }

  /// RTM_GETLINK of every link.
  static func dump() -> NetlinkRequest {
    NetlinkRequest(
      type: Netlink.Message.getLink, flags: Netlink.Flag.request | Netlink.Flag.dump, header: NetlinkHeader.link(),
      attributes: [], step: "list links")
  }

  /// RTM_NEWLINK that changes existing link `name` (found by name): IFF_UP when `up` is given, and
  /// the attributes.
  static func change(_ name: String, up: Bool? = nil, _ attributes: [NetlinkAttribute], step: String)
    -> NetlinkRequest
  {
    let header =
      up.map { NetlinkHeader.link(flags: $0 ? Netlink.interfaceUp : 0, change: Netlink.interfaceUp) }
      ?? NetlinkHeader.link()
    return NetlinkRequest(
      type: Netlink.Message.newLink, flags: acked, header: header, attributes: [.string(A.name, name)] + attributes,
      step: step)
  }

  /// RTM_NEWLINK that moves link `index` (called `name` here) to `namespace`, renamed `newName` there
  /// if given: the index names the link so that IFLA_IFNAME can carry the new name.
  static func move(index: Int32, name: String, to namespace: NamespaceTarget, newName: String?) -> NetlinkRequest {
    var attributes = [namespace.attribute]
    if let newName { attributes.append(.string(A.name, newName)) }
    let renamed = newName.map { " as \($0)" } ?? ""
    return NetlinkRequest(
      type: Netlink.Message.newLink, flags: acked, header: NetlinkHeader.link(index: index), attributes: attributes,
      step: "move link \(name) to \(namespace.words)\(renamed)")
  }
}
