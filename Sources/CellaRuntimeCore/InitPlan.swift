import CellaOCI
import CellaSecurity
import CellaSys
import Glibc

/// One mount, resolved into mount(2) arguments before the clone.
package struct MountStep: Sendable, Equatable {
  package var destination: String
  package var type: String
  /// Host path for binds (absolute), or the fs source for others.
  package var source: String
  package var flags: UInt
  package var propagation: UInt
  package var data: String
  package var isBind: Bool
  package var isCgroup: Bool
  /// mount_setattr bits for the mount itself (binds; new mounts get them through `flags`).
  package var attrSet: UInt64 = 0
  package var attrClear: UInt64 = 0
  /// mount_setattr bits for the mount and everything below it (AT_RECURSIVE).
  package var recursiveAttrSet: UInt64 = 0
  package var recursiveAttrClear: UInt64 = 0
  /// Copy the rootfs's contents at the destination into the new tmpfs.
  package var tmpcopyup = false
  /// The idmapping of an idmapped bind mount.
  package var idmap: IdmapRequest? = nil
  /// The detached, idmapped tree the runtime cut before the clone; init moves it into place.
  package var idmapTree: Int32 = -1
}

/// A device node to create in the container's /dev.
package struct DeviceStep: Sendable, Equatable {
  package var path: String
  package var type: mode_t
  package var major: UInt32
  package var minor: UInt32
  package var mode: mode_t
  package var uid: UInt32
  package var gid: UInt32
}

/// Everything the init process needs, computed in the parent before the clone (pure data).
package struct InitPlan: Sendable {
  package var id: String
  var bundle: String
  package var rootfs: String
  var spec: Spec

  /// Flags for the clone when no namespace is joined by path (the fast path).
  package var cloneFlags: UInt64 = 0
  /// Namespaces joined by path, user first.
  package var joins: [(kind: NamespaceKind, path: String)] = []
  /// New namespaces the child unshares after joining (general path).
  package var unshareFlags: Int32 = 0
  /// The general path needs a second fork to enter a new pid namespace.
  package var forkAfterUnshare = false
  package var newUserNamespace = false
  var newMountNamespace = false
  /// No mount namespace in the config: the container shares the runtime's, and its mounts go on the
  /// bind of root.path the runtime made and recorded (`HostRootfs`); chroot instead of pivot_root.
  package var sharesHostMounts = false
  /// The runtime makes the network namespace (not joined by path): init brings its `lo` up.
  package var newNetworkNamespace = false
  package var newCgroupNamespace = false
  /// The container's cgroup path; without a cgroup namespace, /sys/fs/cgroup shows only this subtree.
  package var cgroupPath = ""
  /// The host's hierarchies, for the container's cgroup mount.
  package var cgroupMounts = CgroupMounts()
  /// Init moves itself into its cgroup (cheap, see CgroupDriver.joinSelf); not possible from inside a
  /// new user namespace, where the runtime moves it instead.
  package var selfJoinCgroup = false
  /// The container uses a controller only the cgroup2 mount of a hybrid host has (hugetlb, unified keys).
  package var joinUnified = false
  /// NUL-separated files init writes "0" to, prepared by the runtime so init touches no Swift object
  /// (each page it touches is charged to the container's memory limit).
  package var selfJoinFiles: [CChar] = []
  package var ownPIDNamespace = false
  /// What planning noticed and `create` logs as warnings (a seccomp cache it would not trust).
  package var warnings: [String] = []
  package var uidMap = ""
  package var gidMap = ""

  package var mounts: [MountStep] = []
  package var setupDev = true
  package var devices: [DeviceStep] = []
  package var noPivot = false
  package var rootReadonly = false
  package var rootPropagation: UInt = 0

  /// The user process: identity, environment, limits and privileges.
  package var process = ProcessPlan()
  package var hostname: String? = nil
  package var domainname: String? = nil
  package var sysctl: [(key: String, value: String)] = []
  package var personality: UInt? = nil
  package var maskedPaths: [String] = []
  package var readonlyPaths: [String] = []
  package var noNewKeyring = false

  package var createContainerHooks: [Hook] = []
  package var startContainerHooks: [Hook] = []
}

/// The devices every container gets (runc's and crun's default set).
let defaultDevices: [DeviceStep] = [
  DeviceStep(path: "/dev/null", type: S_IFCHR, major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0),
  DeviceStep(path: "/dev/zero", type: S_IFCHR, major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0),
  DeviceStep(path: "/dev/full", type: S_IFCHR, major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0),
  DeviceStep(path: "/dev/random", type: S_IFCHR, major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0),
  DeviceStep(path: "/dev/urandom", type: S_IFCHR, major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0),
  DeviceStep(path: "/dev/tty", type: S_IFCHR, major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0),
]

/// Options of `create` and `run` that shape the plan.
public struct CreateOptions: Sendable {
  public var id: String
  public var bundle: String
  public var pidFile: String?
  public var consoleSocket: String?
  public var noPivot = false
  public var noNewKeyring = false
  public var preserveFDs: Int32 = 0
  /// `run` without --detach: a terminal may be proxied by the runtime instead of a console socket.
  public var foreground = false
  /// `--systemd-cgroup`: cgroupsPath is runc's "slice:prefix:name" form (mapped onto cgroupfs).
  public var systemdCgroup = false
  /// Where compiled seccomp filters are cached (set from the state root by `Creator`); nil compiles
  /// in memory and writes nothing.
  public var seccompCache: String? = "/run/cella/.cache/seccomp"

  public init(id: String, bundle: String) {
    self.id = id
    self.bundle = bundle
  }
}

package extension InitPlan {
  /// Builds the plan from a validated spec.
  init(spec: Spec, options: CreateOptions) throws(RuntimeError) {
    self.id = options.id
    self.bundle = options.bundle
    self.spec = spec
    guard let process = spec.process, let root = spec.root else {
      throw RuntimeError("config.json: process and root are required", kind: .invalidArgument)
    }
    self.rootfs = BundlePath.resolve(root.path, in: options.bundle)
    self.rootReadonly = root.readonly ?? false
    self.noPivot = options.noPivot
    self.noNewKeyring = options.noNewKeyring

    let linux = spec.linux
    var newFlags: UInt64 = 0
    var userJoin: (NamespaceKind, String)? = nil
    var otherJoins: [(kind: NamespaceKind, path: String)] = []
    for ns in linux?.namespaces ?? [] {
      guard let kind = NamespaceKind(rawValue: ns.type) else { continue }
      if let path = ns.path, !path.isEmpty {
        if kind == .user { userJoin = (kind, path) } else { otherJoins.append((kind, path)) }
      } else {
        newFlags |= UInt64(UInt32(bitPattern: kind.cloneFlag))
      }
      if kind == .pid && (ns.path ?? "").isEmpty { ownPIDNamespace = true }
      if kind == .user && (ns.path ?? "").isEmpty { newUserNamespace = true }
      if kind == .mount { newMountNamespace = true }
      if kind == .network && (ns.path ?? "").isEmpty { newNetworkNamespace = true }
    }
    sharesHostMounts = !(linux?.namespaces ?? []).contains { $0.type == NamespaceKind.mount.rawValue }
    // Only the host-side bind needs a path without symlinks; other containers keep root.path as given.
    if sharesHostMounts { rootfs = Self.resolve(rootfs) }
    // The time namespace is entered through the parent (its offsets must be set before anyone is inside).
    let timeFlag = UInt64(UInt32(bitPattern: NamespaceKind.time.cloneFlag))
    newFlags &= ~timeFlag
    // The cgroup namespace is unshared by init once the runtime has moved it into its cgroup, so that
    // the namespace's root is the container's cgroup.
    let cgroupFlag = UInt64(UInt32(bitPattern: NamespaceKind.cgroup.cloneFlag))
    newCgroupNamespace = newFlags & cgroupFlag != 0
    newFlags &= ~cgroupFlag
    if let userJoin { joins.append(userJoin) }
    // pid is joined by the parent before the clone; the others by the child.
    joins += otherJoins.filter { $0.kind != .pid && $0.kind != .time }
    if joins.isEmpty {
      cloneFlags = newFlags
    } else {
      let pidFlag = UInt64(UInt32(bitPattern: NamespaceKind.pid.cloneFlag))
      unshareFlags = Int32(bitPattern: UInt32(newFlags))
      forkAfterUnshare = newFlags & pidFlag != 0
    }
    uidMap = (linux?.uidMappings ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    gidMap = (linux?.gidMappings ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()

    for (i, m) in (spec.mounts ?? []).enumerated() {
      let field = "config.json: mounts[\(i)]"
      var ignored: [String] = []
      mounts.append(try Self.mountStep(m, field: field, bundle: options.bundle, plan: self, ignored: &ignored))
      if !ignored.isEmpty {
        warnings.append(
          "\(field).options: \(ignored.joined(separator: ",")) ignored: a bind mount has no filesystem to take them")
      }
      if m.destination == "/dev" && mounts[i].isBind { setupDev = false }
    }
    if setupDev { devices = defaultDevices }
    for (i, d) in (linux?.devices ?? []).enumerated() {
      let type: mode_t
      switch DeviceType(rawValue: d.type) {
      case .c, .u: type = S_IFCHR
      case .b: type = S_IFBLK
      case .p: type = S_IFIFO
      case nil:
        throw RuntimeError(
          "config.json: linux.devices[\(i)].type: unknown device type \"\(d.type)\"", kind: .invalidArgument)
      }
      let field = "config.json: linux.devices[\(i)]"
      let step: DeviceStep
      do {
        step = DeviceStep(
          path: d.path, type: type, major: try IntegerRange.convert(d.major ?? 0, to: UInt32.self, "\(field).major"),
          minor: try IntegerRange.convert(d.minor ?? 0, to: UInt32.self, "\(field).minor"),
          mode: try IntegerRange.convert(
            d.fileMode ?? 0o666, to: mode_t.self, in: SpecValidator.deviceFileModes, "\(field).fileMode") & 0o7777,
          uid: d.uid ?? 0, gid: d.gid ?? 0)
      } catch { throw RuntimeError(error) }
      devices.removeAll { $0.path == d.path }
      devices.append(step)
    }
    if let prop = linux?.rootfsPropagation {
      rootPropagation = MountOptions.propagation(named: prop)?.mountFlags ?? 0
    }

    self.process = try ProcessPlan(process, field: "process")
    var warnings: [String] = []
    self.process.seccomp = try compileSeccomp(
      linux?.seccomp, cache: options.seccompCache.map { SeccompCache(directory: $0) }
    ) { warnings.append($0) }
    self.warnings += warnings
    self.process.preserveFDs = options.preserveFDs
    hostname = spec.hostname
    domainname = spec.domainname
    sysctl = (linux?.sysctl ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    if let p = linux?.personality {
      personality = p.domain == "LINUX32" ? 0x0008 : 0x0000
    }
    maskedPaths = linux?.maskedPaths ?? []
    readonlyPaths = linux?.readonlyPaths ?? []
    createContainerHooks = spec.hooks?.createContainer ?? []
    startContainerHooks = spec.hooks?.startContainer ?? []
  }

  /// root.path without symlinks, resolved once: the bind of a container without a mount namespace is
  /// attached there by move_mount, which does not follow a final symlink, and delete finds it with
  /// O_NOFOLLOW. A path that does not resolve stays as it is, for the open of root.path to report.
  private static func resolve(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// One mount of the spec as a step; refuses options the mount could not apply.
  private static func mountStep(
    _ m: Mount, field: String, bundle: String, plan: InitPlan, ignored: inout [String]
  ) throws(RuntimeError) -> MountStep {
    let opts: MountOptions
    do { opts = try MountOptions.parse(m.options ?? [], type: m.type, field: field + ".options") } catch {
      throw RuntimeError(error)
    }
    ignored = opts.ignoredOnBind
    let type = m.type ?? (opts.isBind ? "bind" : "")
    let isBind = opts.isBind
    var source = m.source ?? type
    if isBind { source = BundlePath.resolve(source, in: bundle) }
    if type.isEmpty && !isBind { throw RuntimeError("\(field).type: a mount needs a type", kind: .invalidArgument) }
    var flags = opts.flags
    if isBind { flags |= MS.bind | (opts.isRecursive ? MS.rec : 0) }
    if type == "proc" || type == "sysfs" {
      // Kernel interfaces never need set-uid, devices or executables.
      flags |= MS.noSuid | MS.noExec | MS.noDev
      if type == "sysfs" && !(m.options ?? []).contains("rw") { flags |= MS.readOnly }
    }
    var step = MountStep(
      destination: m.destination, type: isBind ? "bind" : type, source: source, flags: flags,
      propagation: opts.propagation?.mountFlags ?? 0, data: opts.dataString, isBind: isBind,
      isCgroup: type == "cgroup" || type == "cgroup2")
    step.attrSet = opts.attributes.attrSet
    step.attrClear = opts.attributes.attrClear
    step.recursiveAttrSet = opts.recursiveAttributes.attrSet
    step.recursiveAttrClear = opts.recursiveAttributes.attrClear
    step.tmpcopyup = opts.tmpcopyup
    step.idmap = try IdmapRequest(m, options: opts, field: field, plan: plan)
    return step
  }
}

/// Compiles linux.seccomp with libseccomp (in the parent: the child only loads BPF), through the
/// cache in the state root.
package func compileSeccomp(_ config: LinuxSeccomp?, cache: SeccompCache?, warn: (String) -> Void)
  throws(RuntimeError) -> CompiledSeccomp?
{
  guard let config else { return nil }
  do {
    guard let cache else { return try SeccompCompiler.compile(config) }
    return try cache.compile(config, warn: warn)
  } catch { throw RuntimeError("config.json: \(error.message)", kind: error.kind) }
}
