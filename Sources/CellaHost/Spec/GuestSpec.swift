import CellaAPI
import CellaNet
import CellaOCI
import CellaRuntimeCore

/// The OCI runtime spec of a container guest, built from its image's process, its command override
/// and its effective config. Pure apart from reading what the config names: the image's passwd and
/// group for a named user, a `security.profile` file, and a stat of each disk's source.
public enum GuestSpec {
  /// What a guest's spec is made of.
  public struct Input: Sendable {
    public var name: String
    /// The image's default process.
    public var process: ImageProcess
    /// The command given at create, replacing the image's entrypoint and cmd.
    public var command: [String]?
    public var config: EffectiveConfig
    /// `root.path` of the spec (the plan's bundle has `../rootfs`).
    public var rootfs: String
    /// A host directory holding the guest's files as the image ships them, where a user name is looked
    /// up (the image's rootfs).
    public var lookupRoot: String
    /// `linux.cgroupsPath`.
    public var cgroupsPath: String
    /// The host id range of a `security.userns` guest (from `UidAllocator`).
    public var idRange: IDRange?
    /// The guest's NICs, made by a createRuntime hook; nil for a check of the spec before a start.
    public var network: Network?

    public init(
      name: String, process: ImageProcess, command: [String]?, config: EffectiveConfig, rootfs: String,
      lookupRoot: String, cgroupsPath: String, idRange: IDRange? = nil, network: Network? = nil
    ) {
      self.name = name
      self.process = process
      self.command = command
      self.config = config
      self.rootfs = rootfs
      self.lookupRoot = lookupRoot
      self.cgroupsPath = cgroupsPath
      self.idRange = idRange
      self.network = network
    }
  }

  /// How a run's NICs are made and named in the guest.
  public struct Network: Sendable {
    /// `cella-nic`, the hook.
    public var hookPath: String
    /// The NICs, the first with the default route.
    public var joins: [VethJoin]
    /// Files bound read-only over the guest's /etc/resolv.conf and /etc/hosts.
    public var resolvConf: String
    public var hosts: String

    public init(hookPath: String, joins: [VethJoin], resolvConf: String, hosts: String) {
      self.hookPath = hookPath
      self.joins = joins
      self.resolvConf = resolvConf
      self.hosts = hosts
    }

    /// The hook's argv (`VethJoin.parse` reads each `--nic` back).
    public var hookArguments: [String] { [hookPath] + joins.flatMap { ["--nic", $0.argument] } }
  }

  /// Docker's default capability set, plus CAP_SYS_BOOT: in its own PID namespace a guest's init may
  /// call reboot(2), which the kernel turns into the end of that namespace (the guest powers itself off).
  public static let capabilities = [
    "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_MKNOD",
    "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_BOOT",
    "CAP_SYS_CHROOT",
  ]

  /// Seconds the NIC hook may take (a few netlink calls; a wedged one must not hang the start).
  public static let hookTimeout = 30

  /// The terminal type of a guest's console when the image sets none.
  public static let defaultTerm = "TERM=xterm"

  /// The spec as config.json bytes (CellaOCI's encoder: pretty, trailing newline).
  public static func json(_ input: Input) throws(HostError) -> [UInt8] {
    DefaultSpec.encode(try make(input))
  }

  /// The spec of `input`'s guest.
  public static func make(_ input: Input) throws(HostError) -> Spec {
    let guest = "guest \(ConfigValues.quote(input.name))"
    let config = input.config
    var spec: Spec
    do {
      spec = try DefaultConfig.make()
    } catch {
      throw HostError("default spec", error)
    }

    let args = input.command ?? ((input.process.entrypoint ?? []) + (input.process.cmd ?? []))
    guard let first = args.first, !first.isEmpty else {
      throw HostError(.invalidArgument, "\(guest): no command: the image has no Entrypoint or Cmd and none was given")
    }
    var process = Process(
      terminal: true,
      user: try ImageUser.resolve(input.process.user, root: input.lookupRoot, guest: input.name),
      args: args,
      env: try environment(input.process.env ?? [], config.environment, guest: guest),
      cwd: ConfigValues.cleanAbsolutePath("/" + (input.process.workingDir ?? "/")) ?? "/",
      capabilities: LinuxCapabilities(bounding: capabilities, effective: capabilities, permitted: capabilities),
      // No rlimits: a guest inherits the daemon's, as Docker's containers do. A fixed hard limit above
      // the daemon's would need CAP_SYS_RESOURCE, which some hosts withhold.
      rlimits: nil,
      // A guest is a whole system: su, sudo and ping must work as they do on a host.
      noNewPrivileges: false
    )
    process.consoleSize = nil
    spec.process = process
    spec.root = Root(path: input.rootfs, readonly: false)
    spec.hostname = config.hostname ?? input.name

    var mounts = spec.mounts ?? []
    for disk in config.disks {
      if let problem = ConfigValues.hostDirectoryProblem(disk.source) {
        throw HostError(.invalidArgument, "\(guest): disk.\(disk.name).source: \(problem)")
      }
      // Not shifted by default: a host directory shows its host owners (host root's files as nobody), for
      // guest root writing as host root there could leave the host a setuid-root file.
      if disk.shift && !config.userns {
        throw HostError(.invalidArgument, "\(guest): disk.\(disk.name).shift: needs security.userns=true")
      }
      mounts.append(
        Mount(
          destination: disk.path, type: "bind", source: disk.source,
          options: ["rbind", disk.readonly ? "ro" : "rw"] + (disk.shift ? ["idmap"] : [])))
    }
    if let network = input.network, !network.joins.isEmpty {
      for (source, destination) in [(network.resolvConf, "/etc/resolv.conf"), (network.hosts, "/etc/hosts")] {
        mounts.append(Mount(destination: destination, type: "bind", source: source, options: ["bind", "ro"]))
      }
      var hooks = spec.hooks ?? Hooks()
      hooks.createRuntime =
        (hooks.createRuntime ?? []) + [
          Hook(path: network.hookPath, args: network.hookArguments, timeout: hookTimeout)
        ]
      spec.hooks = hooks
    }
    spec.mounts = mounts

    var linux = spec.linux ?? Linux()
    // A fresh network namespace: lo, and the NICs the hook makes.
    var namespaces: [NamespaceKind] = [.pid, .mount, .ipc, .uts, .network, .cgroup]
    if config.userns {
      guard let range = input.idRange else {
        throw HostError(.internal, "\(guest): security.userns is on but no host id range was allocated")
      }
      namespaces.append(.user)
      linux.uidMappings = [IDMapping(containerID: 0, hostID: range.first, size: range.count)]
      linux.gidMappings = linux.uidMappings
    }
    linux.namespaces = namespaces.map { LinuxNamespace($0) }
    linux.cgroupsPath = input.cgroupsPath
    linux.resources = resources(config)
    linux.seccomp = try seccomp(config.securityProfile, runtimeDefault: linux.seccomp, guest: guest)
    spec.linux = linux
    return spec
  }

  /// Limits, and a device cgroup that denies every device but the runtime's defaults: with CAP_MKNOD a
  /// guest could otherwise make and open the host's disks.
  static func resources(_ config: EffectiveConfig) -> LinuxResources {
    var r = LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")])
    if let limit = config.memoryLimit { r.memory = LinuxMemory(limit: Int64(clamping: limit)) }
    if config.cpuQuota != nil || config.cpuShares != nil {
      r.cpu = LinuxCPU(
        shares: config.cpuShares, quota: config.cpuQuota, period: config.cpuQuota == nil ? nil : config.cpuPeriod)
    }
    if let pids = config.pidsLimit { r.pids = LinuxPids(limit: pids) }
    return r
  }

  /// The image's environment, then `environment.*` (replacing the image's value of a name), then PATH
  /// and TERM when neither set them.
  static func environment(_ image: [String], _ keys: [String: String], guest: String) throws(HostError) -> [String] {
    var out: [String] = []
    var index: [String: Int] = [:]
    func put(_ name: String, _ entry: String) {
      if let i = index[name] {
        out[i] = entry
      } else {
        index[name] = out.count
        out.append(entry)
      }
    }
    for entry in image {
      guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
        throw HostError(
          .invalidArgument, "\(guest): the image's Env entry \(ConfigValues.quote(entry)) is not NAME=VALUE")
      }
      put(String(entry[..<eq]), entry)
    }
    for name in keys.keys.sorted() { put(name, "\(name)=\(keys[name]!)") }
    if index["PATH"] == nil { put("PATH", DefaultSpec.defaultPath) }
    if index["TERM"] == nil { put("TERM", defaultTerm) }
    return out
  }

  /// The seccomp filter `security.profile` names (`runtimeDefault`: the runtime's default spec's), the
  /// shipped ones letting init call reboot(2) (see `capabilities`); a file is used as it is.
  static func seccomp(_ profile: SecurityProfile, runtimeDefault: LinuxSeccomp?, guest: String) throws(HostError)
    -> LinuxSeccomp
  {
    var filter: LinuxSeccomp
    switch profile {
    case .default:
      guard let runtimeDefault else {
        throw HostError(.internal, "\(guest): the runtime's default spec has no seccomp")
      }
      filter = runtimeDefault
    case .strict:
      do {
        filter = try OCIJSON.decode(
          LinuxSeccomp.self, from: Array(StrictSeccompProfile.json.utf8), file: "Profiles/seccomp/strict.json")
      } catch {
        throw HostError(.internal, error.message)
      }
    case .file(let path):
      do throws(HostError) {
        return try ConfigValues.seccompProfile(at: path)
      } catch {
        throw HostError(error.kind, "\(guest): security.profile: \(error.message)")
      }
    }
    filter.syscalls = (filter.syscalls ?? []) + [LinuxSyscall(names: ["reboot"], action: "SCMP_ACT_ALLOW")]
    return filter
  }
}
