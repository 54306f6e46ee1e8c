import CShims
import CellaRuntimeCore
import CellaSys
import Glibc

/// Brings `lo` up in a network namespace the runtime created: the kernel makes it down, and runc and
/// crun bring it up, so clients expect 127.0.0.1 to work in a container with `--network none`.
///
/// One rtnetlink request, as DESIGN.md asks for netlink rather than `ip`: RTM_NEWLINK with an ifinfomsg
/// that sets IFF_UP, acknowledged by the kernel.
enum Loopback {
  /// The rtnetlink numbers this needs (linux/netlink.h, linux/rtnetlink.h, linux/if.h), which Glibc's
  /// module does not import.
  enum Netlink {
    static let protocolRoute: Int32 = 0
    static let newLink: UInt16 = 16
    static let errorMessage: UInt16 = 2
    static let request: UInt16 = 1
    static let acknowledge: UInt16 = 4
    static let interfaceUp: UInt32 = 1
    /// sizeof(struct nlmsghdr), sizeof(struct ifinfomsg).
    static let headerSize = 16
    static let ifinfoSize = 16
  }

  /// The request that sets IFF_UP on interface `index`: nlmsghdr, then ifinfomsg (native byte order,
  /// as netlink wants).
  static func upRequest(index: Int32, sequence: UInt32) -> [UInt8] {
    var bytes: [UInt8] = []
    func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes += $0 } }
    put(UInt32(Netlink.headerSize + Netlink.ifinfoSize))  // nlmsg_len
    put(Netlink.newLink)  // nlmsg_type
    put(Netlink.request | Netlink.acknowledge)  // nlmsg_flags
    put(sequence)  // nlmsg_seq
    put(UInt32(0))  // nlmsg_pid: the kernel fills in the sender
    put(UInt8(0))  // ifi_family AF_UNSPEC
    put(UInt8(0))  // padding
    put(UInt16(0))  // ifi_type
    put(index)  // ifi_index
    put(Netlink.interfaceUp)  // ifi_flags
    put(Netlink.interfaceUp)  // ifi_change: only this bit is touched
    return bytes
  }

  /// The errno of the kernel's answer to request `sequence` (0 for the acknowledgement), or nil
  /// when `reply` is not that answer.
  static func answer(_ reply: [UInt8], sequence: UInt32) -> Int32? {
    guard reply.count >= Netlink.headerSize + 4 else { return nil }
    func read<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
      reply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
    guard read(UInt16.self, at: 4) == Netlink.errorMessage, read(UInt32.self, at: 8) == sequence else { return nil }
    return -read(Int32.self, at: Netlink.headerSize)  // nlmsgerr.error is a negative errno
  }

  /// Sets `lo` up in the calling process's network namespace (needs CAP_NET_ADMIN over it).
  static func bringUp() throws(RuntimeError) {
    let index = if_nametoindex("lo")
    if index == 0 { throw RuntimeError("network namespace: find lo: \(SysError.describe(errno))") }
    let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Netlink.protocolRoute)
    if fd < 0 { throw RuntimeError("network namespace: netlink socket: \(SysError.describe(errno))") }
    defer { close(fd) }
    let sequence: UInt32 = 1
    let request = upRequest(index: Int32(bitPattern: index), sequence: sequence)
    // An unbound netlink socket sends to the kernel.
    if request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) != request.count {
      throw RuntimeError("network namespace: bring lo up: send: \(SysError.describe(errno))")
    }
    var reply = [UInt8](repeating: 0, count: 512)
    while true {
      let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        throw RuntimeError("network namespace: bring lo up: recv: \(n < 0 ? SysError.describe(errno) : "no answer")")
      }
      guard let error = answer(Array(reply.prefix(n)), sequence: sequence) else { continue }
      if error != 0 { throw RuntimeError("network namespace: bring lo up: \(SysError.describe(error))") }
      return
    }
  }
}
