import CShims
import CellaRuntimeCore
import CellaSys
import Glibc

/// A guest's root: an overlay of its image (read-only, shared by every guest of that image) and its
/// own upper layer — vserver's unification, done by the kernel.
///
/// A `security.userns` guest's root maps to host ids of its own, so the image (owned by host root)
/// reaches its overlay through an idmapped, read-only bind on `lower/` that shows the image's ids
/// shifted into the guest's range; its upper layer belongs to the range's first id. The image itself
/// stays shared and unchanged.
enum Overlay {
  /// Mounts the overlay on `paths.rootfs` unless it is mounted already; with `idmap` the lower layer
  /// is `image` idmapped onto that range.
  static func mount(image: String, paths: GuestPaths, idmap: IDRange?) throws(HostError) {
    if isMounted(paths.rootfs) { return }
    for p in [image, paths.lower, paths.upper, paths.work] where p.contains(",") || p.contains(":") {
      throw HostError(.invalidArgument, "overlay: path \(p) contains ',' or ':', which overlayfs cannot take")
    }
    for dir in [paths.upper, paths.work, paths.rootfs] where !FileIO.isDirectory(dir) {
      if Glibc.mkdir(dir, 0o755) != 0 && errno != EEXIST { throw HostError("mkdir", path: dir, errno: errno) }
    }
    try claim(paths, owner: idmap?.first ?? 0)
    var lower = image
    if let idmap {
      try mountIdmapped(image, on: paths.lower, idmap)
      lower = paths.lower
    }
    let data = "lowerdir=\(lower),upperdir=\(paths.upper),workdir=\(paths.work)"
    if Glibc.mount("overlay", paths.rootfs, "overlay", 0, data) != 0 {
      throw HostError("mount overlay on", path: paths.rootfs, errno: errno)
    }
  }

  /// Why the guest's upper layer cannot belong to host id `owner` (its files belong to another id
  /// already), or nil.
  static func ownerProblem(_ paths: GuestPaths, owner: UInt32) -> String? {
    var st = stat()
    guard lstat(paths.upper, &st) == 0, st.st_uid != owner || st.st_gid != owner,
      let names = try? FileIO.listDirectory(paths.upper), !names.isEmpty
    else { return nil }
    // Shifting a used tree's ids would also have to rewrite ACLs and file capabilities and restore
    // the setuid bits chown drops: a used guest keeps the mapping it was made with.
    return
      "security.userns: the guest's files (\(paths.upper)) belong to host uid \(st.st_uid), not \(owner): "
      + "it cannot change once the guest has run; delete and recreate the guest to change it"
  }

  /// Gives the upper and work dirs to `owner` (guest root) while the upper layer is still empty, and
  /// lets it search the guest's directory: a userns guest's init binds its root while it runs as
  /// `owner`, as every OCI runtime's does, so it must reach `rootfs/` on its own rights.
  private static func claim(_ paths: GuestPaths, owner: UInt32) throws(HostError) {
    if let problem = ownerProblem(paths, owner: owner) { throw HostError(.invalidState, problem) }
    for dir in [paths.upper, paths.work] where chown(dir, owner, owner) != 0 {
      throw HostError("chown", path: dir, errno: errno)
    }
    // Group search for guest root only: nothing else of the host's non-root ids gets in.
    if chown(paths.dir, 0, owner) != 0 || chmod(paths.dir, owner == 0 ? 0o700 : 0o710) != 0 {
      throw HostError("give guest root search access to", path: paths.dir, errno: errno)
    }
    guard owner != 0 else { return }
    if let (dir, mode) = try SearchablePath.firstClosed(above: paths.dir) {
      throw HostError(
        .permission,
        "security.userns: guest root (host uid \(owner)) cannot search \(dir) (mode \(String(mode, radix: 8))) "
          + "on the way to its root file system; make it searchable (chmod o+x \(dir))")
    }
  }

  /// Attaches a read-only copy of `image` on `target` whose ids are shifted onto `range`.
  private static func mountIdmapped(_ image: String, on target: String, _ range: IDRange) throws(HostError) {
    try detach(target)
    if Glibc.mkdir(target, 0o755) != 0 && errno != EEXIST { throw HostError("mkdir", path: target, errno: errno) }
    let userns = try MappedUserNamespace.open(range)
    defer { close(userns) }
    let tree = cella_open_tree(
      AT_FDCWD, image, MountAPI.openTreeClone | MountAPI.openTreeCloexec | MountAPI.atRecursive)
    if tree < 0 { throw HostError("open_tree", path: image, errno: errno) }
    defer { close(tree) }
    // Private: nothing mounted in the image's peer group reaches the guest's lower, nor the reverse.
    if cella_mount_setattr(
      tree, "", MountAPI.atEmptyPath | MountAPI.atRecursive, MountAttr.idmap | MountAttr.readOnly, 0,
      UInt64(MS.private), UInt64(userns)) != 0
    {
      throw HostError("idmap (mount_setattr) a copy of", path: image, errno: errno)
    }
    if cella_move_mount(tree, "", AT_FDCWD, target, MountAPI.moveMountFromEmptyPath) != 0 {
      throw HostError("attach the idmapped image on", path: target, errno: errno)
    }
  }

  /// Unmounts the guest's root, then its idmapped lower layer, where mounted (lazily: a process that
  /// still holds one does not keep the guest from stopping).
  static func unmount(_ paths: GuestPaths) throws(HostError) {
    try detach(paths.rootfs)
    try detach(paths.lower)
  }

  /// Whether the root or the lower layer of the guest is still mounted.
  static func anyMounted(_ paths: GuestPaths) -> Bool { isMounted(paths.rootfs) || isMounted(paths.lower) }

  private static func detach(_ path: String) throws(HostError) {
    while isMounted(path) {
      if umount2(path, Int32(MNT_DETACH)) != 0 {
        if errno == EINVAL || errno == ENOENT { return }
        throw HostError("unmount", path: path, errno: errno)
      }
    }
  }

  /// Whether something is mounted on `path`: its mount differs from its parent's. (A bind of the same
  /// file system, like the idmapped lower, has its parent's device, so devices would not tell.)
  static func isMounted(_ path: String) -> Bool {
    guard let here = mountID(path), let parent = mountID(path + "/..") else { return false }
    return here != parent
  }

  private static func mountID(_ path: String) -> UInt64? {
    let fd = Glibc.open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var id: UInt64 = 0
    return cella_fd_mount_id(fd, HostRootfs.statxMountID, &id) == HostRootfs.statxMountID ? id : nil
  }
}
