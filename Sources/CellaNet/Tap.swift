import CShims
import CellaSys
import Glibc

/// A tap device (/dev/net/tun in IFF_TAP mode, without the packet-information prefix) and the fd of
/// its queue, which QEMU reads and writes frames on.
public struct Tap: ~Copyable, Sendable {
  /// IFF_TAP and IFF_NO_PI (linux/if_tun.h).
  private static let flags: Int32 = 0x0002 | 0x1000
  /// IFF_VNET_HDR: each frame carries a virtio-net header, so a virtio-net guest's checksum and
  /// segmentation offloads pass through (QEMU sees the flag on an inherited fd and uses it).
  private static let vnetHeaderFlag: Int32 = 0x4000

  public let fd: FileDescriptor
  /// The device's name (the kernel picks one when the caller gave none).
  public let name: String

  /// Creates tap `name` (or a kernel-chosen tapN when empty). A `persistent` device outlives its fd
  /// (remove it with `deleteLink`); otherwise it goes when the fd is closed. `vnetHeader` prefixes
  /// every frame with a virtio-net header (for QEMU's virtio-net).
  public static func create(_ name: String, persistent: Bool, vnetHeader: Bool = false) throws(NetError) -> Tap {
    if !name.isEmpty { _ = try NetlinkSocket.checked(name) }
    let fd = try openDevice(for: name)
    var actual = [CChar](repeating: 0, count: 16)
    if cella_tun_set_iff(fd.rawValue, name, flags | (vnetHeader ? vnetHeaderFlag : 0), &actual) != 0 {
      throw NetError("create tap \(name)", errno: errno)
    }
    let created = String(decoding: actual.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if persistent && cella_tun_set_persist(fd.rawValue, 1) != 0 {
      throw NetError("make tap \(created) persistent", errno: errno)
    }
    return Tap(fd: fd, name: created)
  }

  /// Gives up the queue fd without closing it (to hand it to QEMU); the caller closes it.
  public consuming func release() -> Int32 { fd.release() }

  private static func openDevice(for name: String) throws(NetError) -> FileDescriptor {
    do { return try FileDescriptor.open("/dev/net/tun", flags: O_RDWR) } catch {
      throw NetError(error.kind, "create tap \(name): \(error.message)")
    }
  }
}
