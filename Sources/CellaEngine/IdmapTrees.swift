import CShims
import CellaErrors
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

package extension InitPlan {
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
    if tree < 0 { throw RuntimeError("\(what): open_tree \(m.source)", errno: errno) }
    // The copy is in its source's peer group: what init mounts under it would reach the host's tree.
    // As slaves, the tree's mounts still receive the host's mounts, as everything in an rslave namespace.
    if cella_mount_setattr(tree, "", MountAPI.atEmptyPath | MountAPI.atRecursive, 0, 0, UInt64(MS.slave), 0) != 0 {
      let e = errno
      close(tree)
      throw RuntimeError("\(what): make the tree rslave", errno: e)
    }
    let rc = cella_mount_setattr(
      tree, "", MountAPI.atEmptyPath | (request.recursive ? MountAPI.atRecursive : 0), MountAttr.idmap, 0, 0,
      UInt64(userns))
    if rc != 0 {
      let e = errno
      close(tree)
      let hint = e == EINVAL ? " (the filesystem of \(m.source) may not support idmapped mounts)" : ""
      throw RuntimeError(
        "\(what): mount_setattr: \(SysError.describe(e))\(hint)",
        kind: e == EINVAL ? .unsupported : ErrorKind.from(errno: e))
    }
    return tree
  }

  /// An fd of a user namespace with the requested mapping.
  private static func userNamespaceFD(_ source: IdmapRequest.Source, what: String) throws(RuntimeError) -> Int32 {
    switch source {
    case .path(let path):
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      if fd < 0 { throw RuntimeError("\(what): open \(path)", errno: errno) }
      return fd
    case .maps(let uid, let gid):
      return try mappedUserNamespace(uid: uid, gid: gid, what: what)
    }
  }

  /// A user namespace that exists only to carry a mapping: a child unshares it and waits while we
  /// write its maps and open it, then exits.
  private static func mappedUserNamespace(uid: String, gid: String, what: String) throws(RuntimeError) -> Int32 {
    var pipe: [Int32] = [-1, -1]
    if cella_pipe2(&pipe, O_CLOEXEC) != 0 { throw RuntimeError("\(what): pipe", errno: errno) }
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
    if pid < 0 { throw RuntimeError("\(what): clone a user namespace", errno: cloneErrno) }
    do {
      try FileIO.write("/proc/\(pid)/uid_map", uid)
      try FileIO.write("/proc/\(pid)/gid_map", gid)
    } catch {
      throw RuntimeError("\(what): write \(error.path ?? "map"): \(error.reason)", kind: .invalidArgument)
    }
    let fd = open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw RuntimeError("\(what): open the mapping's user namespace", errno: errno) }
    return fd
  }
}
