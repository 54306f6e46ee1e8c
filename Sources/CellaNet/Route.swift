/// The rtnetlink requests of route operations, built without I/O so their bytes can be tested.
enum RouteRequests {
  /// RTM_NEWROUTE of the IPv4 default route via `gateway`, out of link `index` (called `link`) if given.
  static func addDefault(via gateway: IPv4Address, index: Int32?, link: String?) -> NetlinkRequest {
    var attributes = [NetlinkAttribute(Netlink.RouteAttribute.gateway, gateway.octets)]
    if let index { attributes.append(.uint32(Netlink.RouteAttribute.outputInterface, UInt32(bitPattern: index))) }
    return NetlinkRequest(
      type: Netlink.Message.newRoute,
      flags: Netlink.Flag.request | Netlink.Flag.ack | Netlink.Flag.create | Netlink.Flag.exclusive,
      header: NetlinkHeader.route(destinationLength: 0), attributes: attributes,
      step: "add default route via \(gateway)\(link.map { " dev \($0)" } ?? "")")
  }
}

extension NetlinkSocket {
  /// Adds the IPv4 default route via `gateway`, out of `link` if given; an existing one is `.alreadyExists`.
  public func addDefaultRoute(via gateway: IPv4Address, link: String? = nil) throws(NetError) {
    let index = try link.map { (link) throws(NetError) in try linkIndex(link) }
    _ = try perform(RouteRequests.addDefault(via: gateway, index: index, link: link))
  }
}
