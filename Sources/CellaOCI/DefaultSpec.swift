/// The config `spec` writes, like `runc spec`.
public enum DefaultSpec {
  /// The search path of a process whose environment has no PATH (execvp's and Go's fallback), and of the default spec.
  public static let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  /// The PATH entry of the default spec's environment.
  public static let defaultPath = "PATH=" + searchPath

  public static let maskedPaths = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap",
  ]

  public static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

  public static func make(rootfs: String = "rootfs", args: [String] = ["sh"], terminal: Bool = true) -> Spec {
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    let process = Process(
      terminal: terminal,
      user: User(uid: 0, gid: 0),
      args: args,
      env: [defaultPath, "TERM=xterm"],
      cwd: "/",
      capabilities: LinuxCapabilities(bounding: caps, effective: caps, permitted: caps),
      rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
      noNewPrivileges: true
    )
    let mounts = [
      Mount(destination: "/proc", type: "proc", source: "proc"),
      Mount(
        destination: "/dev", type: "tmpfs", source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
      Mount(
        destination: "/dev/pts", type: "devpts", source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
      Mount(
        destination: "/dev/shm", type: "tmpfs", source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
      Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
      Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
      Mount(
        destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
    ]
    let namespaces: [NamespaceKind] = [.pid, .network, .ipc, .uts, .mount, .cgroup]
    let linux = Linux(
      namespaces: namespaces.map { LinuxNamespace($0) },
      maskedPaths: maskedPaths,
      readonlyPaths: readonlyPaths
    )
    return Spec(
      ociVersion: OCIVersion.current, process: process, root: Root(path: rootfs, readonly: true),
      hostname: "cella", mounts: mounts, linux: linux)
  }

  /// Pretty JSON in struct field order with a trailing newline.
  public static func encode(_ spec: Spec) -> [UInt8] {
    OCIJSON.encode(spec, pretty: true, trailingNewline: true)
  }
}
