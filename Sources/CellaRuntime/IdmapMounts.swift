import CShims
import CellaOCI
import CellaSys
import Glibc

/// The idmapping an `idmap`/`ridmap` bind mount asks for.
struct IdmapRequest: Sendable, Equatable {
  enum Source: Sendable, Equatable {
    /// uid_map and gid_map lines, for a user namespace the runtime makes only to hold them.
    case maps(uid: String, gid: String)
    /// The user namespace the container joins.
    case path(String)
  }
  var source: Source
  /// `ridmap`: every mount of the bound tree is idmapped, not only its top.
  var recursive: Bool
  /// For errors: "config.json: mounts[3]".
  var field: String

  /// The request of mount `m`, nil without idmap. Mappings without the idmap option idmap the bind
  /// itself, not its submounts, as crun does (podman strips the option and sends only the mappings).
  init?(_ m: Mount, options: MountOptions, field: String, plan: InitPlan) throws(RuntimeError) {
    let uid = m.uidMappings.flatMap { $0.isEmpty ? nil : $0 }
    let gid = m.gidMappings.flatMap { $0.isEmpty ? nil : $0 }
    guard options.isIdmap || uid != nil || gid != nil else { return nil }
    guard options.isBind else {
      throw RuntimeError(
        "\(field).\(uid != nil ? "uidMappings" : "gidMappings"): needs a bind mount (cella idmaps bind mounts only)")
    }
    self.field = field
    self.recursive = options.isIdmapRecursive
    if uid != nil || gid != nil {
      guard let uid else { throw RuntimeError("\(field).uidMappings: required with gidMappings") }
      guard let gid else { throw RuntimeError("\(field).gidMappings: required with uidMappings") }
      func lines(_ maps: [IDMapping]) -> String {
        maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
      }
      source = .maps(uid: lines(uid), gid: lines(gid))
    } else if let join = plan.joins.first(where: { $0.kind == .user }) {
      source = .path(join.path)
    } else if plan.newUserNamespace {
      source = .maps(uid: plan.uidMap, gid: plan.gidMap)
    } else {
      let options = m.options ?? []
      let j = options.firstIndex { $0 == "idmap" || $0 == "ridmap" } ?? 0
      let name = options.indices.contains(j) ? options[j] : "idmap"
      throw RuntimeError(
        "\(field).options[\(j)]: \"\(name)\" needs the mount's uidMappings and gidMappings, or a user namespace for the container"
      )
    }
  }
}

extension InitPlan {
  /// Cuts each idmapped bind mount as a detached tree, here in the host's user namespace: inside a
  /// new user namespace init could not idmap a filesystem the host mounted. Init moves the trees into
  /// place. Called by create just before the clone, never while planning (that must not touch the host).
  mutating func makeIdmapTrees() throws(RuntimeError) {
    do {
      for i in mounts.indices {
        guard let request = mounts[i].idmap else { continue }
        mounts[i].idmapTree = try Self.idmapTree(mounts[i], request)
      }
    } catch {
      closeIdmapTrees()
      throw error
    }
  }

  /// Closes the runtime's copies of the idmapped trees (init holds its own after the clone).
  mutating func closeIdmapTrees() {
    for i in mounts.indices where mounts[i].idmapTree >= 0 {
      close(mounts[i].idmapTree)
      mounts[i].idmapTree = -1
    }
  }

  private static func idmapTree(_ m: MountStep, _ request: IdmapRequest) throws(RuntimeError) -> Int32 {
    let what = "\(request.field) (\(m.destination)): idmap"
    let userns = try userNamespaceFD(request.source, what: what)
    defer { close(userns) }
    let cloneFlags =
      MountAPI.openTreeClone | MountAPI.openTreeCloexec | (m.flags & MS.rec != 0 ? MountAPI.atRecursive : 0)
    let tree = cella_open_tree(AT_FDCWD, m.source, cloneFlags)
    if tree < 0 { throw RuntimeError("\(what): open_tree \(m.source): \(SysError.describe(errno))") }
    // The copy is in its source's peer group: what init mounts under it would reach the host's tree.
    // As slaves, the tree's mounts still receive the host's mounts, as everything in an rslave namespace.
    if cella_mount_setattr(tree, "", MountAPI.atEmptyPath | MountAPI.atRecursive, 0, 0, UInt64(MS.slave), 0) != 0 {
      let e = errno
      close(tree)
      throw RuntimeError("\(what): make the tree rslave: \(SysError.describe(e))")
    }
    let rc = cella_mount_setattr(
      tree, "", MountAPI.atEmptyPath | (request.recursive ? MountAPI.atRecursive : 0), MountAttr.idmap, 0, 0,
      UInt64(userns))
    if rc != 0 {
      let e = errno
      close(tree)
      let hint = e == EINVAL ? " (the filesystem of \(m.source) may not support idmapped mounts)" : ""
      throw RuntimeError("\(what): mount_setattr: \(SysError.describe(e))\(hint)")
    }
    return tree
  }

  /// An fd of a user namespace with the requested mapping.
  private static func userNamespaceFD(_ source: IdmapRequest.Source, what: String) throws(RuntimeError) -> Int32 {
    switch source {
    case .path(let path):
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      if fd < 0 { throw RuntimeError("\(what): open \(path): \(SysError.describe(errno))") }
      return fd
    case .maps(let uid, let gid):
      return try mappedUserNamespace(uid: uid, gid: gid, what: what)
    }
  }

  /// A user namespace that exists only to carry a mapping: a child unshares it and waits while we
  /// write its maps and open it, then exits.
  private static func mappedUserNamespace(uid: String, gid: String, what: String) throws(RuntimeError) -> Int32 {
    var pipe: [Int32] = [-1, -1]
    if cella_pipe2(&pipe, O_CLOEXEC) != 0 { throw RuntimeError("\(what): pipe: \(SysError.describe(errno))") }
    let pid = cella_clone(UInt64(UInt32(bitPattern: NamespaceKind.user.cloneFlag)))
    if pid == 0 {
      close(pipe[1])
      var byte: UInt8 = 0
      _ = read(pipe[0], &byte, 1)
      _exit(0)
    }
    let cloneErrno = errno
    close(pipe[0])
    defer {
      close(pipe[1])
      if pid > 0 { _ = try? Processes.wait(pid) }
    }
    if pid < 0 { throw RuntimeError("\(what): clone a user namespace: \(SysError.describe(cloneErrno))") }
    do {
      try FileIO.write("/proc/\(pid)/uid_map", uid)
      try FileIO.write("/proc/\(pid)/gid_map", gid)
    } catch {
      throw RuntimeError("\(what): write \(error.path ?? "map"): \(error.reason)")
    }
    let fd = open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw RuntimeError("\(what): open the mapping's user namespace: \(SysError.describe(errno))") }
    return fd
  }
}
