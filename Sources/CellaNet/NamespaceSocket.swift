import CShims
import CellaSys
import Glibc

extension NetlinkSocket {
  /// A socket inside the network namespace of `netnsFD` (nsfs or pidfd), for addressing, renaming and
  /// routing there: made on a throwaway thread that enters the namespace and exits, so the calling
  /// thread, and every other, stays where it is.
  public static func open(inNetnsFD netnsFD: Int32, timeoutMilliseconds: Int32 = 5000) throws(NetError)
    -> NetlinkSocket
  {
    let fd = cella_socket_in_netns(
      netnsFD, AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.protocolRoute)
    if fd < 0 { throw NetError("netlink socket in the network namespace of fd \(netnsFD)", errno: errno) }
    return NetlinkSocket(adopting: fd, timeoutMilliseconds: timeoutMilliseconds)
  }

  /// A socket inside the network namespace of process `pid`.
  public static func open(inNetnsOfPID pid: Int32, timeoutMilliseconds: Int32 = 5000) throws(NetError)
    -> NetlinkSocket
  {
    let path = "/proc/\(pid)/ns/net"
    let namespace = try openNamespace(path)
    return try open(inNetnsFD: namespace.rawValue, timeoutMilliseconds: timeoutMilliseconds)
  }

  private static func openNamespace(_ path: String) throws(NetError) -> FileDescriptor {
    do { return try FileDescriptor.open(path) } catch { throw NetError(error.kind, error.message) }
  }
}
