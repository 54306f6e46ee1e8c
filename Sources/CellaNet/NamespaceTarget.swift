/// A network namespace a link is created in or moved to, named without entering it.
public enum NamespaceTarget: Sendable, Equatable {
  /// An open nsfs fd (/proc/PID/ns/net, /run/netns/NAME); the caller keeps it open for the call.
  case fd(Int32)
  /// The network namespace of process `pid`.
  case pid(Int32)

  /// IFLA_NET_NS_FD or IFLA_NET_NS_PID.
  var attribute: NetlinkAttribute {
    switch self {
    case .fd(let fd): .uint32(Netlink.LinkAttribute.netnsFD, UInt32(bitPattern: fd))
    case .pid(let pid): .uint32(Netlink.LinkAttribute.netnsPID, UInt32(bitPattern: pid))
    }
  }

  /// The words naming it in errors.
  var words: String {
    switch self {
    case .fd(let fd): "the network namespace of fd \(fd)"
    case .pid(let pid): "the network namespace of pid \(pid)"
    }
  }
}
