import CellaSys
import Glibc

/// A guest's root: an overlay of its image (read-only, shared by every guest of that image) and its
/// own upper layer — vserver's unification, done by the kernel.
enum Overlay {
  /// Mounts the overlay on `paths.rootfs` unless it is mounted already.
  static func mount(lower: String, paths: GuestPaths) throws(HostError) {
    if isMounted(paths.rootfs) { return }
    for p in [lower, paths.upper, paths.work] where p.contains(",") || p.contains(":") {
      throw HostError(.invalidArgument, "overlay: path \(p) contains ',' or ':', which overlayfs cannot take")
    }
    for dir in [paths.upper, paths.work, paths.rootfs] where !FileIO.isDirectory(dir) {
      if Glibc.mkdir(dir, 0o755) != 0 && errno != EEXIST { throw HostError("mkdir", path: dir, errno: errno) }
    }
    let data = "lowerdir=\(lower),upperdir=\(paths.upper),workdir=\(paths.work)"
    if Glibc.mount("overlay", paths.rootfs, "overlay", 0, data) != 0 {
      throw HostError("mount overlay on", path: paths.rootfs, errno: errno)
    }
  }

  /// Unmounts the guest's root if it is mounted (lazily: a process that still holds it does not keep
  /// the guest from stopping).
  static func unmount(_ paths: GuestPaths) throws(HostError) {
    while isMounted(paths.rootfs) {
      if umount2(paths.rootfs, Int32(MNT_DETACH)) != 0 {
        if errno == EINVAL || errno == ENOENT { return }
        throw HostError("unmount", path: paths.rootfs, errno: errno)
      }
    }
  }

  /// Whether something is mounted on `path` (its device differs from its parent's).
  static func isMounted(_ path: String) -> Bool {
    var st = stat()
    var parent = stat()
    guard lstat(path, &st) == 0, lstat(path + "/..", &parent) == 0 else { return false }
    // An overlay always has a device of its own; nothing else is ever mounted here.
    return st.st_dev != parent.st_dev
  }
}
