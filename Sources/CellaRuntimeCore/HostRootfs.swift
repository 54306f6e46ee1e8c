import CShims
import CellaSys
import Glibc

/// A mount the runtime made in the host's mount namespace, identified so that delete never
/// unmounts anything else at the same path.
public struct HostMount: Codable, Sendable, Equatable {
  /// Where it is attached (root.path).
  public var path: String
  /// The mount id (mountinfo's first field; the kernel reuses these).
  public var id: UInt64
  /// The 64-bit id the kernel never reuses (STATX_MNT_ID_UNIQUE, Linux 6.8+), when it has one.
  public var uniqueID: UInt64?
}

/// The root of a container without its own mount namespace (the spec says it then shares the
/// runtime's). Its mounts land in the host's mount namespace, so they all go on one private bind of
/// root.path: the runtime clones the tree detached, records the clone, and only then attaches it
/// (DESIGN.md decision 4). Detaching that bind at delete takes every mount under it along.
package enum HostRootfs {
  package static let statxMountID: UInt32 = 0x1000  // STATX_MNT_ID
  private static let statxMountIDUnique: UInt32 = 0x4000  // STATX_MNT_ID_UNIQUE

  /// Binds `path` onto itself (recursively, then private: nothing mounted under it propagates to the
  /// original tree), calling `record` with the new mount before it is attached.
  package static func bind(_ path: String, record: (HostMount) throws(RuntimeError) -> Void) throws(RuntimeError) {
    let tree = cella_open_tree(AT_FDCWD, path, MountAPI.openTreeClone | MountAPI.openTreeCloexec | MountAPI.atRecursive)
    if tree < 0 { throw RuntimeError("root.path \(path): clone the mount tree", errno: errno) }
    defer { close(tree) }
    guard let mount = identify(tree, path: path) else {
      throw RuntimeError("root.path \(path): read the mount id", errno: errno)
    }
    try record(mount)
    if cella_move_mount(tree, "", AT_FDCWD, path, MountAPI.moveMountFromEmptyPath) != 0 {
      throw RuntimeError("root.path \(path): attach the bind", errno: errno)
    }
    if Glibc.mount(nil, "/proc/self/fd/\(tree)", nil, MS.rec | MS.private, nil) != 0 {
      throw RuntimeError("root.path \(path): make the bind private", errno: errno)
    }
  }

  /// Detaches the recorded bind with everything under it; nothing to do when it is gone already.
  /// Fails, leaving it, when another mount covers it (then it cannot be reached without removing that one).
  package static func detach(_ mount: HostMount) throws(RuntimeError) {
    let fd = open(mount.path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT || errno == ENOTDIR || errno == ELOOP { return }
      throw RuntimeError("undo the host mount on \(mount.path)", errno: errno)
    }
    defer { close(fd) }
    if identify(fd, path: mount.path).map({ isSame($0, mount) }) == true {
      if umount2("/proc/self/fd/\(fd)", Int32(MNT_DETACH)) != 0 {
        throw RuntimeError("unmount the host mount on \(mount.path)", errno: errno)
      }
      return
    }
    if MountInfo.hasMount(id: mount.id, at: mount.path) {
      throw RuntimeError(
        "the host mount on \(mount.path) (mount id \(mount.id)) is covered by another mount; unmount that one (another container without a mount namespace on the same root.path?) and delete again",
        kind: .invalidState
      )
    }
  }

  private static func isSame(_ a: HostMount, _ b: HostMount) -> Bool {
    if let x = a.uniqueID, let y = b.uniqueID { return x == y }
    return a.id == b.id
  }

  /// The mount `fd` is on.
  private static func identify(_ fd: Int32, path: String) -> HostMount? {
    var id: UInt64 = 0
    guard cella_fd_mount_id(fd, statxMountID, &id) == statxMountID else { return nil }
    var mount = HostMount(path: path, id: id)
    var unique: UInt64 = 0
    if cella_fd_mount_id(fd, statxMountIDUnique, &unique) == statxMountIDUnique { mount.uniqueID = unique }
    return mount
  }
}

/// /proc/self/mountinfo, read only for what delete needs.
enum MountInfo {
  /// Whether a mount with this id is attached at `path` (a mount point mountinfo had to escape is
  /// compared by id alone).
  static func hasMount(id: UInt64, at path: String) -> Bool {
    guard let text = try? FileIO.readString("/proc/self/mountinfo") else { return false }
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count > 4, UInt64(fields[0]) == id else { continue }
      return fields[4] == path || fields[4].contains("\\")
    }
    return false
  }
}
