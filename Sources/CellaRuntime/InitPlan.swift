import CellaOCI
import CellaSecurity
import CellaSys
import Glibc

/// One mount, resolved into mount(2) arguments before the clone.
struct MountStep: Sendable, Equatable {
  var destination: String
  var type: String
  /// Host path for binds (absolute), or the fs source for others.
  var source: String
  var flags: UInt
  var propagation: UInt
  var data: String
  var isBind: Bool
  var isCgroup: Bool
  /// mount_setattr bits for the mount itself (binds; new mounts get them through `flags`).
  var attrSet: UInt64 = 0
  var attrClear: UInt64 = 0
  /// mount_setattr bits for the mount and everything below it (AT_RECURSIVE).
  var recursiveAttrSet: UInt64 = 0
  var recursiveAttrClear: UInt64 = 0
  /// Copy the rootfs's contents at the destination into the new tmpfs.
  var tmpcopyup = false
  /// The idmapping of an idmapped bind mount.
  var idmap: IdmapRequest? = nil
  /// The detached, idmapped tree the runtime cut before the clone; init moves it into place.
  var idmapTree: Int32 = -1
}

/// A device node to create in the container's /dev.
struct DeviceStep: Sendable, Equatable {
  var path: String
  var type: mode_t
  var major: UInt32
  var minor: UInt32
  var mode: mode_t
  var uid: UInt32
  var gid: UInt32
}

/// Everything the init process needs, computed in the parent before the clone (pure data).
struct InitPlan: Sendable {
  var id: String
  var bundle: String
  var rootfs: String
  var spec: Spec

  /// Flags for the clone when no namespace is joined by path (the fast path).
  var cloneFlags: UInt64 = 0
  /// Namespaces joined by path, user first.
  var joins: [(kind: NamespaceKind, path: String)] = []
  /// New namespaces the child unshares after joining (general path).
  var unshareFlags: Int32 = 0
  /// The general path needs a second fork to enter a new pid namespace.
  var forkAfterUnshare = false
  var newUserNamespace = false
  var newMountNamespace = false
  /// No mount namespace in the config: the container shares the runtime's, and its mounts go on the
  /// bind of root.path the runtime made and recorded (`HostRootfs`); chroot instead of pivot_root.
  var sharesHostMounts = false
  /// The runtime makes the network namespace (not joined by path): init brings its `lo` up.
  var newNetworkNamespace = false
  var newCgroupNamespace = false
  /// The container's cgroup path; without a cgroup namespace, /sys/fs/cgroup shows only this subtree.
  var cgroupPath = ""
  /// The host's hierarchies, for the container's cgroup mount.
  var cgroupMounts = CgroupMounts()
  /// Init moves itself into its cgroup (cheap, see CgroupDriver.joinSelf); not possible from inside a
  /// new user namespace, where the runtime moves it instead.
  var selfJoinCgroup = false
  /// The container uses a controller only the cgroup2 mount of a hybrid host has (hugetlb, unified keys).
  var joinUnified = false
  /// NUL-separated files init writes "0" to, prepared by the runtime so init touches no Swift object
  /// (each page it touches is charged to the container's memory limit).
  var selfJoinFiles: [CChar] = []
  var ownPIDNamespace = false
  /// What planning noticed and `create` logs as warnings (a seccomp cache it would not trust).
  var warnings: [String] = []
  var uidMap = ""
  var gidMap = ""

  var mounts: [MountStep] = []
  var setupDev = true
  var devices: [DeviceStep] = []
  var noPivot = false
  var rootReadonly = false
  var rootPropagation: UInt = 0

  /// The user process: identity, environment, limits and privileges.
  var process = ProcessPlan()
  var hostname: String? = nil
  var domainname: String? = nil
  var sysctl: [(key: String, value: String)] = []
  var personality: UInt? = nil
  var maskedPaths: [String] = []
  var readonlyPaths: [String] = []
  var noNewKeyring = false

  var createContainerHooks: [Hook] = []
  var startContainerHooks: [Hook] = []
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

extension InitPlan {
  /// Builds the plan from a validated spec.
  init(spec: Spec, options: CreateOptions) throws(RuntimeError) {
    self.id = options.id
    self.bundle = options.bundle
    self.spec = spec
    guard let process = spec.process, let root = spec.root else {
      throw RuntimeError("config.json: process and root are required")
    }
    self.rootfs = root.path.hasPrefix("/") ? root.path : "\(options.bundle)/\(root.path)"
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
      mounts.append(try Self.mountStep(m, field: "config.json: mounts[\(i)]", bundle: options.bundle, plan: self))
      if m.destination == "/dev" && mounts[i].isBind { setupDev = false }
    }
    if setupDev { devices = defaultDevices }
    for (i, d) in (linux?.devices ?? []).enumerated() {
      let type: mode_t
      switch d.type {
      case "c", "u": type = S_IFCHR
      case "b": type = S_IFBLK
      case "p": type = S_IFIFO
      default: throw RuntimeError("config.json: linux.devices[\(i)].type: unknown device type \"\(d.type)\"")
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
      rootPropagation = MountOptions.propagation(named: prop) ?? 0
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
    // Last: from here on the plan holds fds (see closeIdmapTrees).
    try makeIdmapTrees()
  }

  /// One mount of the spec as a step; refuses options the mount could not apply.
  private static func mountStep(_ m: Mount, field: String, bundle: String, plan: InitPlan) throws(RuntimeError)
    -> MountStep
  {
    let opts: MountOptions
    do { opts = try MountOptions.parse(m.options ?? [], type: m.type, field: field + ".options") } catch {
      throw RuntimeError(error)
    }
    let type = m.type ?? (opts.isBind ? "bind" : "")
    let isBind = opts.isBind
    var source = m.source ?? type
    if isBind && !source.hasPrefix("/") { source = "\(bundle)/\(source)" }
    if type.isEmpty && !isBind { throw RuntimeError("\(field).type: a mount needs a type") }
    var flags = opts.flags
    if isBind { flags |= MS.bind | (opts.isRecursive ? MS.rec : 0) }
    if type == "proc" || type == "sysfs" {
      // Kernel interfaces never need set-uid, devices or executables.
      flags |= MS.noSuid | MS.noExec | MS.noDev
      if type == "sysfs" && !(m.options ?? []).contains("rw") { flags |= MS.readOnly }
    }
    var step = MountStep(
      destination: m.destination, type: isBind ? "bind" : type, source: source, flags: flags,
      propagation: opts.propagation, data: opts.dataString, isBind: isBind,
      isCgroup: type == "cgroup" || type == "cgroup2")
    step.attrSet = opts.attrSet
    step.attrClear = opts.attrClear
    step.recursiveAttrSet = opts.recursiveAttrSet
    step.recursiveAttrClear = opts.recursiveAttrClear
    step.tmpcopyup = opts.tmpcopyup
    step.idmap = try IdmapRequest(m, options: opts, field: field, plan: plan)
    return step
  }
}

/// Compiles linux.seccomp with libseccomp (in the parent: the child only loads BPF), through the
/// cache in the state root.
func compileSeccomp(_ config: LinuxSeccomp?, cache: SeccompCache?, warn: (String) -> Void) throws(RuntimeError)
  -> CompiledSeccomp?
{
  guard let config else { return nil }
  do {
    guard let cache else { return try SeccompCompiler.compile(config) }
    return try cache.compile(config, warn: warn)
  } catch { throw RuntimeError("config.json: \(error.message)") }
}
