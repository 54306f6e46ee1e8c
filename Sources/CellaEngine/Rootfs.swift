import CShims
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

/// Builds the container's root filesystem inside its mount namespace (runs in the init process).
///
/// Destinations are resolved with `InRoot` and mounted through `/proc/self/fd/N`, so a symlink in
/// the image can never redirect a mount or a mknod to the host (DESIGN.md decision 3).
struct Rootfs {
  let plan: InitPlan
  private(set) var rootFD: Int32 = -1

  init(plan: InitPlan) { self.plan = plan }

  /// Propagation, the rootfs bind, every configured mount and /dev; stops before pivot_root.
  mutating func prepare() throws(RuntimeError) {
    if !plan.sharesHostMounts {
      // Nothing done below may reach the host's mount tree.
      try mount(nil, "/", nil, MS.rec | MS.slave, step: "make / rslave")
      try mount(plan.rootfs, plan.rootfs, nil, MS.bind | MS.rec, step: "bind root.path \(plan.rootfs)")
    }  // else the runtime bound it, recorded, before the clone (HostRootfs)
    rootFD = try RuntimeError.wrap("open root.path") {
      try sys("open", path: plan.rootfs) { open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) }
    }
    for (i, m) in plan.mounts.enumerated() {
      do { try mountOne(m) } catch {
        throw RuntimeError("mounts[\(i)] (\(m.destination)): \(error.message)", kind: error.kind)
      }
    }
    if plan.setupDev { try setupDevSymlinks() }
    for d in plan.devices { try createDevice(d) }
  }

  /// maskedPaths, readonlyPaths and sysctls, after the createContainer hooks and before pivot_root.
  func harden() throws(RuntimeError) {
    for (key, value) in plan.sysctl {
      let path = "proc/sys/" + key.split(separator: ".").joined(separator: "/")
      let fd = try RuntimeError.wrap("linux.sysctl \(key)") { try InRoot.open(root: rootFD, path, flags: O_WRONLY) }
      defer { close(fd) }
      try RuntimeError.wrap("linux.sysctl \(key)") { try FileIO.writeAll(fd: fd, Array(value.utf8), path: "/" + path) }
    }
    for path in plan.maskedPaths {
      guard let fd = try? InRoot.open(root: rootFD, path) else { continue }
      defer { close(fd) }
      if InRoot.fileType(fd) == S_IFDIR {
        try mount("tmpfs", InRoot.procPath(fd), "tmpfs", MS.readOnly, data: "size=0k", step: "mask \(path)")
      } else {
        try bind("/dev/null", onto: fd, path, flags: 0, step: "mask \(path)")
      }
    }
    for path in plan.readonlyPaths {
      guard let fd = try? InRoot.open(root: rootFD, path) else { continue }
      let target = InRoot.procPath(fd)
      try bind(target, onto: fd, path, flags: MS.rec, step: "readonly path \(path)")
      close(fd)
      try remountBind(path, flags: MS.readOnly | MS.rec)
    }
  }

  /// pivot_root into the rootfs (or MS_MOVE + chroot with --no-pivot) and drop the old root.
  func pivot() throws(RuntimeError) {
    if plan.sharesHostMounts {
      // The host's mount namespace: pivot_root or MS_MOVE would change the host's root. runc chroots too.
      try RuntimeError.wrap("chdir root.path") { try sys("fchdir") { fchdir(rootFD) } }
      try RuntimeError.wrap("chroot") { try sys("chroot") { chroot(".") } }
    } else if plan.noPivot {
      try RuntimeError.wrap("chdir root.path") { try sys("fchdir") { fchdir(rootFD) } }
      try mount(InRoot.procPath(rootFD), "/", nil, MS.move, step: "move root.path onto /")
      try RuntimeError.wrap("chroot") { try sys("chroot") { chroot(".") } }
    } else {
      let oldRoot = try RuntimeError.wrap("open /") {
        try sys("open /") { open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC) }
      }
      defer { close(oldRoot) }
      try RuntimeError.wrap("chdir root.path") { try sys("fchdir") { fchdir(rootFD) } }
      try RuntimeError.wrap("pivot_root") { try sys("pivot_root", path: plan.rootfs) { cella_pivot_root(".", ".") } }
      try RuntimeError.wrap("chdir old root") { try sys("fchdir") { fchdir(oldRoot) } }
      // Keep the unmount of the old root from propagating back to the host.
      try mount(nil, ".", nil, MS.rec | MS.slave, step: "make old root rslave")
      try RuntimeError.wrap("unmount old root") { try sys("umount2") { umount2(".", Int32(MNT_DETACH)) } }
    }
    try RuntimeError.wrap("chdir /") { try sys("chdir /") { chdir("/") } }
  }

  /// After pivot_root: rootfsPropagation and the read-only root.
  func finish() throws(RuntimeError) {
    if plan.rootPropagation != 0 {
      try mount(nil, "/", nil, plan.rootPropagation, step: "linux.rootfsPropagation")
    }
    if plan.rootReadonly {
      let locked = lockedFlags("/")
      try mount(
        nil, "/", nil, MS.bind | MS.remount | MS.readOnly | locked, step: "root.readonly")
    }
  }

  // MARK: - mounts

  private func mountOne(_ m: MountStep) throws(RuntimeError) {
    if m.isCgroup {
      try mountCgroup(m)
    } else if m.idmapTree >= 0 {
      try moveIdmapTree(m)
    } else if m.isBind {
      let src = try RuntimeError.wrap("source") {
        try sys("open", path: m.source) { open(m.source, O_PATH | O_CLOEXEC) }
      }
      defer { close(src) }
      let isDir = InRoot.fileType(src) == S_IFDIR
      let dst = try RuntimeError.wrap("destination") {
        isDir ? try InRoot.mkdirAll(root: rootFD, m.destination) : try InRoot.ensureFile(root: rootFD, m.destination)
      }
      defer { close(dst) }
      try bind(
        InRoot.procPath(src), onto: dst, m.destination, flags: m.flags & (MS.rec | MS.silent), step: "bind")
    } else {
      let dst = try RuntimeError.wrap("destination") { try InRoot.mkdirAll(root: rootFD, m.destination) }
      defer { close(dst) }
      // Opened before the mount hides it: what tmpcopyup copies.
      let lower = m.tmpcopyup ? try openDirectory(dst, step: "tmpcopyup: open \(m.destination)") : -1
      defer { if lower >= 0 { close(lower) } }
      // A read-only tmpfs is filled first and made read-only after (podman adds tmpcopyup to every
      // --tmpfs, read-only ones too).
      let readOnlyAfterCopy = lower >= 0 && m.flags & MS.readOnly != 0
      let flags = readOnlyAfterCopy ? m.flags & ~MS.readOnly : m.flags
      // Options the kernel rejects reach it as data: name them, they are the likely culprit.
      let step = m.data.isEmpty ? "mount \(m.type)" : "mount \(m.type) with options \(jsonQuote(m.data))"
      do {
        try mount(m.source, InRoot.procPath(dst), m.type, flags, data: m.data, step: step)
      } catch {
        // sysfs needs a network namespace owned by our user namespace; fall back to the host's /sys, read-only.
        guard m.type == "sysfs" || m.type == "mqueue" else { throw error }
        let host = m.type == "sysfs" ? "/sys" : "/dev/mqueue"
        do {
          try bind(host, onto: dst, m.destination, flags: MS.rec, step: "bind \(host)")
        } catch let fallback {
          // The first failure says what is wrong with the config; the fallback's only why it did not help.
          throw RuntimeError(
            "\(error.message) (and binding the host's \(host) instead: \(fallback.message))", kind: error.kind)
        }
        try remountBind(m.destination, flags: (m.flags | MS.rec) & ~MS.relatime)
      }
      if lower >= 0 { try copyUp(from: lower, to: m.destination) }
      if readOnlyAfterCopy {
        let fd = try RuntimeError.wrap("reopen") { try InRoot.open(root: rootFD, m.destination) }
        defer { close(fd) }
        try MountAPI.setAttributes(
          fd, set: MountAttr.readOnly, clear: 0, recursive: false, step: "tmpcopyup: make it ro")
      }
    }
    // Reopened only when there is something to set: most binds (resolv.conf, hosts) have nothing.
    if (m.isBind && m.attrSet | m.attrClear != 0) || m.recursiveAttrSet | m.recursiveAttrClear != 0 {
      try applyAttributes(m)
    }
    if m.propagation != 0 {
      let fd = try RuntimeError.wrap("reopen") { try InRoot.open(root: rootFD, m.destination) }
      defer { close(fd) }
      try mount(nil, InRoot.procPath(fd), nil, m.propagation, step: "propagation")
    }
  }

  /// Per-mount attributes of a bind (a new mount got them from its mount(2) flags), then the recursive
  /// ones, with mount_setattr: unlike a bind remount it leaves unnamed attributes, locked ones included, alone.
  private func applyAttributes(_ m: MountStep) throws(RuntimeError) {
    let fd = try RuntimeError.wrap("reopen") { try InRoot.open(root: rootFD, m.destination) }
    defer { close(fd) }
    if m.isBind && m.attrSet | m.attrClear != 0 {
      try MountAPI.setAttributes(fd, set: m.attrSet, clear: m.attrClear, recursive: false, step: "mount options")
    }
    if m.recursiveAttrSet | m.recursiveAttrClear != 0 {
      try MountAPI.setAttributes(
        fd, set: m.recursiveAttrSet, clear: m.recursiveAttrClear, recursive: true, step: "recursive mount options")
    }
  }

  /// Moves the idmapped tree the runtime cut (see InitPlan.makeIdmapTrees) onto the destination.
  private func moveIdmapTree(_ m: MountStep) throws(RuntimeError) {
    defer { close(m.idmapTree) }
    let isDir = InRoot.fileType(m.idmapTree) == S_IFDIR
    let dst = try RuntimeError.wrap("destination") {
      isDir ? try InRoot.mkdirAll(root: rootFD, m.destination) : try InRoot.ensureFile(root: rootFD, m.destination)
    }
    defer { close(dst) }
    let flags = MountAPI.moveMountFromEmptyPath | MountAPI.moveMountToEmptyPath
    if cella_move_mount(m.idmapTree, "", dst, "", flags) != 0 {
      throw RuntimeError("idmap: move_mount", errno: errno)
    }
  }

  /// Remounts a bind mount with extra flags, keeping the flags the kernel locks in a user namespace.
  private func remountBind(_ destination: String, flags: UInt) throws(RuntimeError) {
    let fd = try RuntimeError.wrap("reopen \(destination)") { try InRoot.open(root: rootFD, destination) }
    defer { close(fd) }
    let locked = lockedFlags(InRoot.procPath(fd))
    try mount(
      nil, InRoot.procPath(fd), nil, MS.bind | MS.remount | flags | locked, step: "remount \(destination)")
  }

  /// The flags of the mount at `path` that a remount must keep (nodev, nosuid, ... locked by the kernel).
  private func lockedFlags(_ path: String) -> UInt {
    var st = statvfs()
    guard statvfs(path, &st) == 0 else { return 0 }
    var flags: UInt = 0
    let f = UInt(st.f_flag)
    if f & StatvfsFlag.noSuid != 0 { flags |= MS.noSuid }
    if f & StatvfsFlag.noDev != 0 { flags |= MS.noDev }
    if f & StatvfsFlag.noExec != 0 { flags |= MS.noExec }
    if f & StatvfsFlag.readOnly != 0 && plan.newUserNamespace { flags |= MS.readOnly }
    if f & StatvfsFlag.noAtime != 0 { flags |= MS.noAtime }
    if f & StatvfsFlag.noDirAtime != 0 { flags |= MS.noDirAtime }
    if f & StatvfsFlag.relatime != 0 { flags |= MS.relatime }
    return flags
  }

  /// cgroup mounts: cgroup2 on a unified host; a tmpfs with one mount per v1 hierarchy otherwise.
  private func mountCgroup(_ m: MountStep) throws(RuntimeError) {
    let dst = try RuntimeError.wrap("destination") { try InRoot.mkdirAll(root: rootFD, m.destination) }
    defer { close(dst) }
    let hierarchies = plan.cgroupMounts
    let base = m.flags & ~(MS.bind | MS.rec)
    if hierarchies.isUnified {
      if plan.newCgroupNamespace {
        try mount("cgroup", InRoot.procPath(dst), "cgroup2", base, step: "mount cgroup2")
      } else {
        try bindOwnCgroup(host: "/sys/fs/cgroup", at: m.destination, fd: dst, flags: base)
      }
      return
    }
    try mount("tmpfs", InRoot.procPath(dst), "tmpfs", base & ~MS.readOnly, data: "mode=755", step: "mount tmpfs")
    for h in hierarchies.v1 {
      let sub = m.destination + "/" + h.name
      let fd = try RuntimeError.wrap("mkdir \(sub)") { try InRoot.mkdirAll(root: rootFD, sub) }
      defer { close(fd) }
      if plan.newCgroupNamespace {
        // In its own cgroup namespace, a fresh mount shows the container's cgroup as the root.
        try mount("cgroup", InRoot.procPath(fd), "cgroup", base, data: h.options, step: "mount cgroup \(h.options)")
      } else {
        try bindOwnCgroup(host: h.hostPath, at: sub, fd: fd, flags: base)
      }
    }
    if let unified = hierarchies.unifiedMount {
      let sub = m.destination + "/" + unified
      let fd = try RuntimeError.wrap("mkdir \(sub)") { try InRoot.mkdirAll(root: rootFD, sub) }
      defer { close(fd) }
      if plan.newCgroupNamespace {
        try mount("cgroup", InRoot.procPath(fd), "cgroup2", base, step: "mount cgroup2")
      } else {
        try bindOwnCgroup(host: "/sys/fs/cgroup/" + unified, at: sub, fd: fd, flags: base)
      }
    }
    if base & MS.readOnly != 0 {
      let fd = try RuntimeError.wrap("reopen") { try InRoot.open(root: rootFD, m.destination) }
      defer { close(fd) }
      try mount(
        nil, InRoot.procPath(fd), nil, MS.remount | base, data: "mode=755", step: "remount cgroup tmpfs read-only")
    }
  }

  /// Without a cgroup namespace a cgroup mount would show the whole host tree: bind only the
  /// container's own cgroup directory there instead, as runc does.
  private func bindOwnCgroup(host: String, at destination: String, fd: Int32, flags: UInt) throws(RuntimeError) {
    let source = host + plan.cgroupPath
    try bind(source, onto: fd, destination, flags: MS.rec, step: "bind \(source)")
    try remountBind(destination, flags: (flags | MS.rec) & ~MS.relatime)
  }

  // MARK: - /dev

  private func setupDevSymlinks() throws(RuntimeError) {
    let dev = try RuntimeError.wrap("/dev") { try InRoot.mkdirAll(root: rootFD, "/dev") }
    defer { close(dev) }
    var links = [
      ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
      ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx"),
    ]
    if FileIO.exists("/proc/kcore") { links.append(("/proc/kcore", "core")) }
    for (target, name) in links {
      if symlinkat(target, dev, name) != 0 && errno != EEXIST {
        throw RuntimeError("create /dev/\(name)", errno: errno)
      }
    }
  }

  private func createDevice(_ d: DeviceStep) throws(RuntimeError) {
    let parts = InRoot.components(d.path)
    guard let name = parts.last else { throw RuntimeError("linux.devices: bad path \(d.path)", kind: .invalidArgument) }
    let parent = try RuntimeError.wrap("device \(d.path)") {
      try InRoot.mkdirAll(root: rootFD, "/" + parts.dropLast().joined(separator: "/"))
    }
    defer { close(parent) }
    _ = unlinkat(parent, name, 0)
    if mknodat(parent, name, d.type | d.mode, dev_t(cella_makedev(d.major, d.minor))) == 0 {
      if fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0 {
        throw RuntimeError("chown \(d.path)", errno: errno)
      }
      _ = fchmodat(parent, name, d.mode, 0)
      return
    }
    guard errno == EPERM else { throw RuntimeError("mknod \(d.path)", errno: errno) }
    // In a user namespace mknod is refused: bind the host's node instead.
    let fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
    if fd < 0 { throw RuntimeError("create \(d.path)", errno: errno) }
    close(fd)
    let target = try RuntimeError.wrap("device \(d.path)") { try InRoot.open(root: rootFD, d.path) }
    defer { close(target) }
    try bind(d.path, onto: target, d.path, flags: 0, step: "bind device \(d.path)")
  }

  // MARK: - mount(2)

  /// Binds `source` onto the directory or file `fd` refers to, which is `destination` in the rootfs.
  private func bind(_ source: String, onto fd: Int32, _ destination: String, flags: UInt, step: String)
    throws(RuntimeError)
  {
    try mount(source, InRoot.procPath(fd), nil, MS.bind | flags, step: step)
    guard plan.sharesHostMounts else { return }
    // A bind joins its source's peer group, so in the host's mount namespace whatever init mounts
    // under it would appear at the source too. As a slave it still receives but never sends, as a
    // bind in a namespace made rslave does. Made at once, before anything is mounted under it.
    let bound = try RuntimeError.wrap("reopen \(destination)") { try InRoot.open(root: rootFD, destination) }
    defer { close(bound) }
    try mount(nil, InRoot.procPath(bound), nil, MS.rec | MS.slave, step: "\(step): make it rslave")
  }

  private func mount(
    _ source: String?, _ target: String, _ type: String?, _ flags: UInt, data: String = "", step: String
  ) throws(RuntimeError) {
    let rc = Glibc.mount(source, target, type, flags, data.isEmpty ? nil : data)
    if rc != 0 { throw RuntimeError("\(step)", errno: errno) }
  }
}
