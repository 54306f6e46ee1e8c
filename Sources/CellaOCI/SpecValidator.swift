import CellaErrors

/// Checks a decoded `Spec` before the runtime acts on it. Each failure is
/// one line naming the field, e.g.
/// `config.json: linux.namespaces[3].type: duplicate namespace "pid"`.
public struct SpecValidator: Sendable {
  /// The bundle directory; relative `root.path` and bind sources resolve against it.
  public let bundle: String
  /// Whether a host path exists (following symlinks); CellaOCI does no I/O, so the caller supplies it.
  public let hostHasPath: @Sendable (String) -> Bool
  /// The file name used as message prefix.
  public var file: String = "config.json"

  public init(bundle: String, hostHasPath: @escaping @Sendable (String) -> Bool) {
    self.bundle = bundle
    self.hostHasPath = hostHasPath
  }

  public static let ipcSysctls: Set<String> = [
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
    "kernel.shmmni", "kernel.shm_rmid_forced",
  ]

  public static let timeOffsetClocks: Set<String> = ["monotonic", "boottime"]

  // Numeric ranges: what the kernel interface behind each field accepts, checked here so that the
  // runtime's later conversions (to dev_t, mode_t, uid_t, milliseconds...) cannot trap.

  /// linux.devices major and minor numbers (makedev takes unsigned 32-bit halves).
  public static let deviceNumbers: ClosedRange<Int64> = 0...Int64(UInt32.max)
  /// User and group ids; (uid_t)-1 is excluded because setresuid and chown read it as "leave unchanged".
  public static let ids: ClosedRange<UInt32> = 0...(UInt32.max - 1)
  /// linux.devices fileMode: a 16-bit st_mode. podman sends the host node's whole st_mode, type bits
  /// included (0o20666); only the permission bits are used, the type comes from `type`, as in runc.
  public static let deviceFileModes: ClosedRange<UInt32> = 0...0o177777
  /// process.user.umask (umask(2) keeps the low nine bits).
  public static let umasks: ClosedRange<UInt32> = 0...0o777
  /// The longest mount source mount(2) takes: the kernel copies at most a page, NUL included.
  public static let maxMountSourceBytes = 4095
  /// process.consoleSize height and width (struct winsize holds 16 bits).
  public static let consoleSizes: ClosedRange<UInt> = 0...UInt(UInt16.max)
  /// process.oomScoreAdj, as /proc/PID/oom_score_adj accepts it.
  public static let oomScoreAdjustments: ClosedRange<Int> = -1000...1000
  /// hooks timeout in seconds; the bound keeps the deadline in milliseconds far from overflow.
  public static let hookTimeouts: ClosedRange<Int> = 1...Int(Int32.max)
  /// linux.seccomp syscall argument indexes (a syscall has six).
  public static let seccompArgIndexes: ClosedRange<UInt32> = 0...5
  /// linux.timeOffsets nanoseconds (the kernel refuses a full second or more).
  public static let timeOffsetNanoseconds: ClosedRange<UInt32> = 0...999_999_999

  public func validate(_ spec: Spec) throws(OCIError) {
    try OCIVersion.check(spec.ociVersion, file: file)
    try checkRoot(spec.root)
    try checkProcess(spec.process)
    let linux = spec.linux ?? Linux()
    try checkNamespaces(linux)
    if spec.hostname.map({ !$0.isEmpty }) ?? false, linux.namespace(.uts) == nil {
      throw fail(
        "hostname", "cannot set a hostname without a uts namespace (add {\"type\": \"uts\"} to linux.namespaces)")
    }
    if spec.domainname.map({ !$0.isEmpty }) ?? false, linux.namespace(.uts) == nil {
      throw fail(
        "domainname", "cannot set a domainname without a uts namespace (add {\"type\": \"uts\"} to linux.namespaces)")
    }
    if let label = linux.mountLabel, !label.isEmpty {
      throw fail("linux.mountLabel", "cella does not apply SELinux labels; remove the field", kind: .unsupported)
    }
    if linux.intelRdt != nil {
      throw fail("linux.intelRdt", "cella does not manage Intel RDT (resctrl); remove the field", kind: .unsupported)
    }
    if linux.memoryPolicy != nil {
      throw fail(
        "linux.memoryPolicy", "cella does not set NUMA memory policies yet; remove the field", kind: .unsupported)
    }
    if let devices = linux.netDevices, !devices.isEmpty {
      throw fail(
        "linux.netDevices", "cella does not move network devices into containers yet; remove the field",
        kind: .unsupported)
    }
    try checkMounts(spec.mounts ?? [])
    try checkHooks(spec.hooks)
    try checkIDMappings(linux)
    try checkTimeOffsets(linux)
    if let propagation = linux.rootfsPropagation, MountOptions.propagation(named: propagation) == nil {
      let names = MountPropagation.Mode.allCases.flatMap { [$0.rawValue, "r" + $0.rawValue] }
      throw fail(
        "linux.rootfsPropagation",
        "unknown propagation \(quote(propagation)) (use \(names.dropLast().joined(separator: ", ")) or \(names.last ?? ""))"
      )
    }
    try checkSysctl(linux)
    try checkDevices(linux.devices ?? [])
    if let personality = linux.personality, personality.domain != "LINUX", personality.domain != "LINUX32" {
      throw fail("linux.personality.domain", "unknown domain \(quote(personality.domain)) (use LINUX or LINUX32)")
    }
    for (name, paths) in [("maskedPaths", linux.maskedPaths), ("readonlyPaths", linux.readonlyPaths)] {
      for (i, path) in (paths ?? []).enumerated() where !path.hasPrefix("/") {
        throw fail("linux.\(name)[\(i)]", "must be an absolute path, got \(quote(path))")
      }
    }
    try checkSeccomp(linux.seccomp)
  }

  // MARK: - Sections

  private func checkRoot(_ root: Root?) throws(OCIError) {
    guard let root else {
      throw fail("root", "missing; set root.path to the container's root filesystem")
    }
    if root.path.isEmpty { throw fail("root.path", "is empty; set it to the container's root filesystem") }
    let resolved = BundlePath.resolve(root.path, in: bundle)
    if !hostHasPath(resolved) {
      throw fail("root.path", "\(quote(resolved)) does not exist")
    }
  }

  private func checkProcess(_ process: Process?) throws(OCIError) {
    guard let process else {
      throw fail("process", "missing; the container needs a process to run")
    }
    guard let args = process.args, !args.isEmpty, !args[0].isEmpty else {
      throw fail("process.args", "missing or empty; give the program to run")
    }
    if !process.cwd.hasPrefix("/") {
      throw fail("process.cwd", "must be an absolute path, got \(quote(process.cwd))")
    }
    try checkProcessUnsupported(process, field: "process")
    try checkProcessNumbers(process, field: "process")
    var seen: Set<String> = []
    for (i, rlimit) in (process.rlimits ?? []).enumerated() {
      guard RlimitType(rawValue: rlimit.type) != nil else {
        throw fail("process.rlimits[\(i)].type", "unknown rlimit \(quote(rlimit.type))")
      }
      if !seen.insert(rlimit.type).inserted {
        throw fail("process.rlimits[\(i)].type", "duplicate rlimit \(quote(rlimit.type))")
      }
      if rlimit.soft > rlimit.hard {
        throw fail("process.rlimits[\(i)]", "soft limit \(rlimit.soft) is greater than hard limit \(rlimit.hard)")
      }
    }
  }

  /// Process fields cella does not apply: refused, naming the field, rather than accepted and ignored
  /// (config.json's process, or exec's --process file with `field` "").
  public func checkProcessUnsupported(_ process: Process, field: String) throws(OCIError) {
    let prefix = field.isEmpty ? "" : "\(field)."
    // A label accepted but not applied would run the process unconfined while the caller believes it
    // confined. "unconfined" is what cella gives, so that one is honest (Docker sends it for
    // --privileged and apparmor=unconfined).
    if let profile = process.apparmorProfile, !profile.isEmpty, profile != Self.unconfinedProfile {
      throw fail(
        "\(prefix)apparmorProfile",
        "cella does not apply AppArmor profiles; remove the field or set \(quote(Self.unconfinedProfile))",
        kind: .unsupported)
    }
    if let label = process.selinuxLabel, !label.isEmpty {
      throw fail("\(prefix)selinuxLabel", "cella does not apply SELinux labels; remove the field", kind: .unsupported)
    }
    if process.scheduler != nil {
      throw fail(
        "\(prefix)scheduler", "cella does not set scheduling policies yet; remove the field", kind: .unsupported)
    }
    if process.ioPriority != nil {
      throw fail("\(prefix)ioPriority", "cella does not set I/O priorities yet; remove the field", kind: .unsupported)
    }
    if process.execCPUAffinity != nil {
      throw fail(
        "\(prefix)execCPUAffinity",
        "cella does not set a CPU affinity around exec yet; remove the field (use linux.resources.cpu.cpus)",
        kind: .unsupported)
    }
  }

  /// The AppArmor profile name that means "no profile".
  public static let unconfinedProfile = "unconfined"

  /// The numeric fields of a process (config.json's, or exec's --process file with `field` "").
  public func checkProcessNumbers(_ process: Process, field: String) throws(OCIError) {
    let prefix = field.isEmpty ? "" : "\(field)."
    if let adj = process.oomScoreAdj { try range(adj, Self.oomScoreAdjustments, "\(prefix)oomScoreAdj") }
    try range(process.user.uid, Self.ids, "\(prefix)user.uid")
    try range(process.user.gid, Self.ids, "\(prefix)user.gid")
    for (i, gid) in (process.user.additionalGids ?? []).enumerated() {
      try range(gid, Self.ids, "\(prefix)user.additionalGids[\(i)]")
    }
    if let umask = process.user.umask { try range(umask, Self.umasks, "\(prefix)user.umask") }
    if let size = process.consoleSize {
      try range(size.height, Self.consoleSizes, "\(prefix)consoleSize.height")
      try range(size.width, Self.consoleSizes, "\(prefix)consoleSize.width")
    }
  }

  private func checkNamespaces(_ linux: Linux) throws(OCIError) {
    var seen: Set<String> = []
    for (i, ns) in (linux.namespaces ?? []).enumerated() {
      guard ns.kind != nil else {
        throw fail("linux.namespaces[\(i)].type", "unknown namespace \(quote(ns.type))")
      }
      if !seen.insert(ns.type).inserted {
        throw fail("linux.namespaces[\(i)].type", "duplicate namespace \(quote(ns.type))")
      }
      if let path = ns.path, !path.isEmpty, !path.hasPrefix("/") {
        throw fail("linux.namespaces[\(i)].path", "must be an absolute path, got \(quote(path))")
      }
    }
  }

  private func checkMounts(_ mounts: [Mount]) throws(OCIError) {
    for (i, mount) in mounts.enumerated() {
      if !mount.destination.hasPrefix("/") {
        throw fail("mounts[\(i)].destination", "must be an absolute path, got \(quote(mount.destination))")
      }
      if let source = mount.source, source.utf8.count > Self.maxMountSourceBytes {
        throw fail(
          "mounts[\(i)].source",
          "is \(source.utf8.count) bytes long; mount(2) takes at most \(Self.maxMountSourceBytes)")
      }
      if mount.isBind {
        guard let source = mount.source, !source.isEmpty else {
          throw fail("mounts[\(i)].source", "missing; a bind mount needs a source")
        }
        let resolved = BundlePath.resolve(source, in: bundle)
        if !hostHasPath(resolved) {
          throw fail("mounts[\(i)].source", "\(quote(resolved)) does not exist (bind mount source)")
        }
      }
      try checkMappings(mount.uidMappings, field: "mounts[\(i)].uidMappings")
      try checkMappings(mount.gidMappings, field: "mounts[\(i)].gidMappings")
    }
  }

  private func checkHooks(_ hooks: Hooks?) throws(OCIError) {
    for (name, list) in hooks?.all ?? [] {
      for (i, hook) in list.enumerated() {
        if !hook.path.hasPrefix("/") {
          throw fail("hooks.\(name)[\(i)].path", "must be an absolute path, got \(quote(hook.path))")
        }
        if let timeout = hook.timeout { try range(timeout, Self.hookTimeouts, "hooks.\(name)[\(i)].timeout") }
      }
    }
  }

  private func checkMappings(_ mappings: [IDMapping]?, field: String) throws(OCIError) {
    for (i, mapping) in (mappings ?? []).enumerated() {
      // Both ranges must end inside the 32-bit id space.
      let room = UInt64(UInt32.max) - UInt64(max(mapping.containerID, mapping.hostID)) + 1
      try range(UInt64(mapping.size), 1...room, "\(field)[\(i)].size")
    }
  }

  private func checkIDMappings(_ linux: Linux) throws(OCIError) {
    let hasUID = !(linux.uidMappings ?? []).isEmpty
    let hasGID = !(linux.gidMappings ?? []).isEmpty
    let userNamespace = linux.namespace(.user)
    if userNamespace == nil {
      if hasUID {
        throw fail(
          "linux.uidMappings", "mappings need a user namespace (add {\"type\": \"user\"} to linux.namespaces)")
      }
      if hasGID {
        throw fail(
          "linux.gidMappings", "mappings need a user namespace (add {\"type\": \"user\"} to linux.namespaces)")
      }
    } else if let ns = userNamespace, (ns.path ?? "").isEmpty {
      let index = linux.namespaces?.firstIndex { $0.type == NamespaceKind.user.rawValue } ?? 0
      if !hasUID {
        throw fail(
          "linux.uidMappings",
          "missing; a new user namespace needs uid and gid mappings (or set linux.namespaces[\(index)].path to join one)"
        )
      }
      if !hasGID {
        throw fail(
          "linux.gidMappings",
          "missing; a new user namespace needs uid and gid mappings (or set linux.namespaces[\(index)].path to join one)"
        )
      }
    }
    try checkMappings(linux.uidMappings, field: "linux.uidMappings")
    try checkMappings(linux.gidMappings, field: "linux.gidMappings")
  }

  private func checkTimeOffsets(_ linux: Linux) throws(OCIError) {
    guard let offsets = linux.timeOffsets, !offsets.isEmpty else { return }
    if linux.namespace(.time) == nil {
      throw fail(
        "linux.timeOffsets", "offsets need a time namespace (add {\"type\": \"time\"} to linux.namespaces)")
    }
    for clock in offsets.keys.sorted() {
      guard Self.timeOffsetClocks.contains(clock) else {
        throw fail("linux.timeOffsets", "unknown clock \(quote(clock)) (only monotonic and boottime can be offset)")
      }
      if let nanos = offsets[clock]?.nanosecs {
        try range(nanos, Self.timeOffsetNanoseconds, "linux.timeOffsets.\(clock).nanosecs")
      }
    }
  }

  private func checkSysctl(_ linux: Linux) throws(OCIError) {
    for key in (linux.sysctl ?? [:]).keys.sorted() {
      if key.isEmpty || key.contains("/") || key.contains("..") || key.hasPrefix(".") || key.hasSuffix(".") {
        throw fail("linux.sysctl", "\(quote(key)) is not a valid sysctl name")
      }
      let needed: NamespaceKind
      if Self.ipcSysctls.contains(key) || key.hasPrefix("fs.mqueue.") {
        needed = .ipc
      } else if key.hasPrefix("net.") {
        needed = .network
      } else if key == "kernel.hostname" || key == "kernel.domainname" {
        needed = .uts
      } else {
        throw fail(
          "linux.sysctl", "\(quote(key)) is not namespaced; only ipc, net and uts sysctls can be set in a container")
      }
      if linux.namespace(needed) == nil {
        throw fail(
          "linux.sysctl",
          "\(quote(key)) needs a \(needed.rawValue) namespace (add {\"type\": \"\(needed.rawValue)\"} to linux.namespaces)"
        )
      }
    }
  }

  private func checkDevices(_ devices: [LinuxDevice]) throws(OCIError) {
    for (i, device) in devices.enumerated() {
      guard let type = DeviceType(rawValue: device.type) else {
        let names = DeviceType.allCases.map(\.rawValue)
        throw fail(
          "linux.devices[\(i)].type",
          "unknown device type \(quote(device.type)) (use \(names.dropLast().joined(separator: ", ")) or \(names.last ?? ""))"
        )
      }
      if !device.path.hasPrefix("/") {
        throw fail("linux.devices[\(i)].path", "must be an absolute path, got \(quote(device.path))")
      }
      if type.cgroupType != nil {
        if device.major == nil {
          throw fail("linux.devices[\(i)].major", "required for a \(quote(device.type)) device")
        }
        if device.minor == nil {
          throw fail("linux.devices[\(i)].minor", "required for a \(quote(device.type)) device")
        }
      }
      if let major = device.major { try range(major, Self.deviceNumbers, "linux.devices[\(i)].major") }
      if let minor = device.minor { try range(minor, Self.deviceNumbers, "linux.devices[\(i)].minor") }
      if let mode = device.fileMode { try range(mode, Self.deviceFileModes, "linux.devices[\(i)].fileMode") }
      if let uid = device.uid { try range(uid, Self.ids, "linux.devices[\(i)].uid") }
      if let gid = device.gid { try range(gid, Self.ids, "linux.devices[\(i)].gid") }
    }
  }

  private func checkSeccomp(_ seccomp: LinuxSeccomp?) throws(OCIError) {
    guard let seccomp else { return }
    if let problem = Self.seccompProblem(seccomp) { throw fail(problem.field, problem.text) }
  }

  /// The first structural problem of a seccomp section (names, actions, operators, argument indexes, a
  /// listener for SCMP_ACT_NOTIFY), as a field and a text; CellaSecurity's compiler asks the same.
  public static func seccompProblem(_ seccomp: LinuxSeccomp) -> (field: String, text: String)? {
    var usesNotify = seccomp.defaultAction == SeccompAction.SCMP_ACT_NOTIFY.rawValue
    if SeccompAction(rawValue: seccomp.defaultAction) == nil {
      return ("linux.seccomp.defaultAction", "unknown action \(quote(seccomp.defaultAction))")
    }
    for (i, rule) in (seccomp.syscalls ?? []).enumerated() {
      if rule.names.isEmpty { return ("linux.seccomp.syscalls[\(i)].names", "is empty; name at least one syscall") }
      if SeccompAction(rawValue: rule.action) == nil {
        return ("linux.seccomp.syscalls[\(i)].action", "unknown action \(quote(rule.action))")
      }
      if rule.action == SeccompAction.SCMP_ACT_NOTIFY.rawValue { usesNotify = true }
      for (j, arg) in (rule.args ?? []).enumerated() {
        let field = "linux.seccomp.syscalls[\(i)].args[\(j)]"
        if !seccompArgIndexes.contains(arg.index) {
          let range = seccompArgIndexes
          let text = IntegerRange.problem(
            value: "\(arg.index)", lower: "\(range.lowerBound)", upper: "\(range.upperBound)")
          return (field + ".index", text)
        }
        if SeccompOperator(rawValue: arg.op) == nil { return (field + ".op", "unknown operator \(quote(arg.op))") }
      }
    }
    if usesNotify && (seccomp.listenerPath ?? "").isEmpty {
      return ("linux.seccomp.listenerPath", "missing; SCMP_ACT_NOTIFY needs a listener socket")
    }
    return nil
  }

  private func range<T: BinaryInteger>(_ value: T, _ allowed: ClosedRange<T>, _ field: String) throws(OCIError) {
    try IntegerRange.check(value, in: allowed, "\(file): \(field)")
  }

  private func fail(_ field: String, _ text: String, kind: ErrorKind = .invalidArgument) -> OCIError {
    OCIError("\(file): \(field): \(text)", kind: kind)
  }
}
