import CellaOCI
import CellaRuntimeCore

/// The OCI spec of a VM guest's jail: a cella security context whose one process is QEMU (Firecracker's
/// jailer is the model). QEMU sees the host's /usr read-only and nothing else of the host but what
/// the VM needs: its kernel, its disks' backing files, and its runtime directory.
public enum VMSpec {
  /// What a jail is made of.
  public struct Input: Sendable {
    public var name: String
    /// QEMU's argv, its fds 3… already numbered.
    public var argv: [String]
    /// The jail's root: an empty directory holding only mount points and the /usr links.
    public var root: String
    /// The guest's `vm/` directory, seen inside as `runDirectory`.
    public var vmDirectory: String
    /// Host files bound read-only at the same path inside (backing files of qcow2 disks).
    public var sameFiles: [String]
    /// Host files bound read-only at another path inside: (source, destination).
    public var files: [(source: String, destination: String)]
    /// The unprivileged uid and gid QEMU runs as.
    public var uid: UInt32
    /// Guest RAM in bytes; the cgroup allows it plus `overhead(ram:)`.
    public var memory: UInt64
    public var config: EffectiveConfig
    public var cgroupsPath: String
    /// Pass /dev/kvm in (only when the VM runs under KVM).
    public var kvm: Bool

    public init(
      name: String, argv: [String], root: String, vmDirectory: String, sameFiles: [String],
      files: [(source: String, destination: String)], uid: UInt32, memory: UInt64, config: EffectiveConfig,
      cgroupsPath: String, kvm: Bool
    ) {
      self.name = name
      self.argv = argv
      self.root = root
      self.vmDirectory = vmDirectory
      self.sameFiles = sameFiles
      self.files = files
      self.uid = uid
      self.memory = memory
      self.config = config
      self.cgroupsPath = cgroupsPath
      self.kvm = kvm
    }
  }

  /// Where the guest's `vm/` directory (QMP and agent sockets, its initrd and disk overlay) is inside.
  public static let runDirectory = "/run/cella"

  /// The host paths the jail's root links to under its read-only /usr (Debian's merged /usr).
  public static let usrLinks = ["bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"]

  /// What QEMU may use beyond the guest's RAM: its own code and heap, the TCG translation cache
  /// (~45 MiB measured), device buffers. Bounded: a QEMU that grows past it is killed, not the host.
  public static func overhead(ram: UInt64) -> UInt64 { (160 << 20) + ram / 8 }

  public static func json(_ input: Input) throws(HostError) -> [UInt8] { DefaultSpec.encode(try make(input)) }

  public static func make(_ input: Input) throws(HostError) -> Spec {
    var spec: Spec
    do { spec = try DefaultConfig.make() } catch { throw HostError("default spec", error) }
    var process = Process(
      terminal: true, user: User(uid: input.uid, gid: input.uid, additionalGids: []), args: input.argv,
      // TMPDIR: a volatile disk's throwaway layer lives on disk in the guest's directory, not in RAM.
      env: ["PATH=/usr/bin:/bin", "HOME=" + runDirectory, "TMPDIR=" + runDirectory], cwd: runDirectory,
      capabilities: LinuxCapabilities(bounding: [], effective: [], inheritable: [], permitted: [], ambient: []),
      rlimits: nil, noNewPrivileges: true)
    process.consoleSize = nil
    spec.process = process
    spec.root = Root(path: input.root, readonly: true)
    spec.hostname = "cella-vm"
    var mounts = spec.mounts ?? []
    mounts.append(
      Mount(destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro", "nosuid", "nodev"]))
    mounts.append(
      Mount(
        destination: runDirectory, type: "bind", source: input.vmDirectory,
        options: ["rbind", "rw", "nosuid", "nodev", "noexec"]))
    mounts.append(
      Mount(destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "noexec", "size=64m"]))
    for path in input.sameFiles {
      mounts.append(Mount(destination: path, type: "bind", source: path, options: ["bind", "ro", "nosuid", "nodev"]))
    }
    for file in input.files {
      mounts.append(
        Mount(
          destination: file.destination, type: "bind", source: file.source, options: ["bind", "ro", "nosuid", "nodev"]))
    }
    spec.mounts = mounts
    var linux = spec.linux ?? Linux()
    linux.namespaces = [NamespaceKind.pid, .mount, .ipc, .uts, .network, .cgroup].map { LinuxNamespace($0) }
    linux.cgroupsPath = input.cgroupsPath
    var r = LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")])
    r.memory = LinuxMemory(limit: Int64(clamping: input.memory + overhead(ram: input.memory)))
    if input.config.cpuQuota != nil || input.config.cpuShares != nil {
      r.cpu = LinuxCPU(
        shares: input.config.cpuShares, quota: input.config.cpuQuota,
        period: input.config.cpuQuota == nil ? nil : input.config.cpuPeriod)
    }
    if let pids = input.config.pidsLimit { r.pids = LinuxPids(limit: pids) }
    if input.kvm {
      // /dev/kvm is the only host device a jail gets; taps and serial ports come in as fds.
      linux.devices = [LinuxDevice(type: "c", path: "/dev/kvm", major: 10, minor: 232, fileMode: 0o666, uid: 0, gid: 0)]
      r.devices = (r.devices ?? []) + [LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 232, access: "rw")]
    }
    linux.resources = r
    // QEMU's own `-sandbox` filter stacks on this one.
    spec.linux = linux
    return spec
  }
}
