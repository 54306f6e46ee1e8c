import CShims
import CellaSys
import Glibc

/// The new mount API (open_tree, move_mount, mount_setattr): flag values (linux/mount.h, fcntl.h).
package enum MountAPI {
  package static let atRecursive: UInt32 = 0x8000
  package static let atEmptyPath: UInt32 = 0x1000
  package static let openTreeClone: UInt32 = 1
  package static let openTreeCloexec = UInt32(O_CLOEXEC)
  package static let moveMountFromEmptyPath: UInt32 = 0x04
  package static let moveMountToEmptyPath: UInt32 = 0x40

  /// mount_setattr on the mount `fd` refers to (and every mount below it when `recursive`).
  package static func setAttributes(
    _ fd: Int32, set: UInt64, clear: UInt64, recursive: Bool, step: String
  ) throws(RuntimeError) {
    let flags = atEmptyPath | (recursive ? atRecursive : 0)
    if cella_mount_setattr(fd, "", flags, set, clear, 0, 0) != 0 {
      throw RuntimeError("\(step): mount_setattr", errno: errno)
    }
  }
}
