extension NetlinkSocket {
  /// Creates bridge `name` (down), with `mtu` if given; an existing `name` is `.alreadyExists`.
  public func createBridge(_ name: String, mtu: UInt32? = nil) throws(NetError) {
    _ = try perform(LinkRequests.createBridge(try Self.checked(name)))
    guard let mtu else { return }
    // An MTU given at creation is not "set by the user" to the bridge driver, which then follows its
    // ports' MTU as they join; set afterwards, it stays.
    do { try setMTU(name, mtu) } catch {
      try? deleteLink(name)
      throw error
    }
  }

  /// Sets the MTU of link `name` (a bridge's then no longer follows its ports').
  public func setMTU(_ name: String, _ mtu: UInt32) throws(NetError) {
    let name = try Self.checked(name)
    _ = try perform(
      LinkRequests.change(name, [.uint32(Netlink.LinkAttribute.mtu, mtu)], step: "set MTU of link \(name) to \(mtu)"))
  }

  /// Creates veth pair `name`–`peer` (both down), the peer made directly in `peerNamespace` if given.
  public func createVeth(_ name: String, peer: String, peerNamespace: NamespaceTarget? = nil) throws(NetError) {
    _ = try perform(
      LinkRequests.createVeth(try Self.checked(name), peer: try Self.checked(peer), peerNamespace: peerNamespace))
  }

  /// Deletes link `name` (a veth takes its peer along); a missing one is `.notFound`.
  public func deleteLink(_ name: String) throws(NetError) {
    _ = try perform(LinkRequests.delete(try Self.checked(name)))
  }

  /// The link called `name`; a missing one is `.notFound`.
  public func link(_ name: String) throws(NetError) -> LinkInfo {
    let request = LinkRequests.get(try Self.checked(name))
    guard let link = try perform(request).lazy.compactMap(LinkInfo.init).first else {
      throw NetError(.internal, "\(request.step): the kernel's answer holds no link")
    }
    return link
  }

  /// The index of link `name`; a missing one is `.notFound`.
  public func linkIndex(_ name: String) throws(NetError) -> Int32 { try link(name).index }

  /// Every link whose name starts with `prefix`, in index order (reconciliation finds its own this way).
  public func links(prefix: String = "") throws(NetError) -> [LinkInfo] {
    try perform(LinkRequests.dump()).compactMap(LinkInfo.init).filter { $0.name.hasPrefix(prefix) }
  }

  /// Sets link `name` administratively up or down.
  public func setLink(_ name: String, up: Bool) throws(NetError) {
    let name = try Self.checked(name)
    _ = try perform(LinkRequests.change(name, up: up, [], step: "set link \(name) \(up ? "up" : "down")"))
  }

  /// Makes link `name` a port of bridge `bridge`, or of none when `bridge` is nil.
  public func setMaster(_ name: String, bridge: String?) throws(NetError) {
    let name = try Self.checked(name)
    let index = try bridge.map { (bridge) throws(NetError) in try linkIndex(bridge) } ?? 0
    let master = NetlinkAttribute.uint32(Netlink.LinkAttribute.master, UInt32(bitPattern: index))
    let step = bridge.map { "add link \(name) to bridge \($0)" } ?? "remove link \(name) from its bridge"
    _ = try perform(LinkRequests.change(name, [master], step: step))
  }

  /// Sets the MAC address of link `name`.
  public func setMAC(_ name: String, _ mac: MACAddress) throws(NetError) {
    let name = try Self.checked(name)
    let address = NetlinkAttribute(Netlink.LinkAttribute.address, mac.octets)
    _ = try perform(LinkRequests.change(name, [address], step: "set MAC address of link \(name) to \(mac)"))
  }

  /// Moves link `name` into `namespace`, renamed `newName` there if given (a veth end becomes `eth0`).
  public func moveLink(_ name: String, to namespace: NamespaceTarget, newName: String? = nil) throws(NetError) {
    let index = try linkIndex(name)
    let newName = try newName.map { (n) throws(NetError) in try Self.checked(n) }
    _ = try perform(LinkRequests.move(index: index, name: name, to: namespace, newName: newName))
  }

  /// The longest interface name the kernel takes (IFNAMSIZ less its NUL).
  public static let maximumNameLength = 15

  /// `name` if the kernel could take it as an interface name; else `.invalidArgument` naming it.
  public static func checked(_ name: String) throws(NetError) -> String {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty, bytes.count <= maximumNameLength, name != ".", name != "..",
      !bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 32 || $0 == 127 })
    else {
      throw NetError(
        .invalidArgument,
        "interface name \"\(name)\": must be 1 to \(maximumNameLength) bytes without '/', ':', spaces or control characters"
      )
    }
    return name
  }
}
