extension NetlinkSocket {
  /// Adds `address`/`prefixLength` to link `link`, with `broadcast` if given; a duplicate is `.alreadyExists`.
  public func addAddress(
    _ address: IPv4Address, prefixLength: Int, broadcast: IPv4Address? = nil, to link: String
  ) throws(NetError) {
    try changeAddress(add: true, address, prefixLength: prefixLength, broadcast: broadcast, link: link)
  }

  /// Removes `address`/`prefixLength` from link `link`; a missing one is `.notFound`.
  public func deleteAddress(_ address: IPv4Address, prefixLength: Int, from link: String) throws(NetError) {
    try changeAddress(add: false, address, prefixLength: prefixLength, broadcast: nil, link: link)
  }

  /// The IPv4 addresses on link `link`, or on every link when it is nil.
  public func addresses(on link: String? = nil) throws(NetError) -> [AddressInfo] {
    let index = try link.map { (link) throws(NetError) in try linkIndex(link) }
    return try perform(AddressRequests.dump()).compactMap(AddressInfo.init).filter {
      index == nil || $0.linkIndex == index
    }
  }

  private func changeAddress(
    add: Bool, _ address: IPv4Address, prefixLength: Int, broadcast: IPv4Address?, link: String
  ) throws(NetError) {
    guard (0...32).contains(prefixLength) else {
      throw NetError(.invalidArgument, "address \(address)/\(prefixLength): the prefix length must be 0 to 32")
    }
    let index = try linkIndex(link)
    _ = try perform(
      AddressRequests.change(
        add: add, address, prefixLength: UInt8(prefixLength), broadcast: broadcast, index: index, link: link))
  }
}
