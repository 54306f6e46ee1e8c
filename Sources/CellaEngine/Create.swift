import CShims
import CellaCgroups
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

/// The `create` operation: validates the bundle, clones the init process and drives it until it
/// waits for `start`. Synchronous and single-threaded (DESIGN.md decision 1).
public struct Creator {
  public let store: StateStore
  public let log: Logger

  public init(store: StateStore, log: Logger) {
    self.store = store
    self.log = log
  }

  /// What `create` made: the record, and whether the caller is the parent of init (run waits on it).
  public struct Result: Sendable {
    public var record: ContainerRecord
    /// The pty master when the process has a terminal and no --console-socket was given (run in the foreground).
    public var master: Int32?
  }

  /// Creates the container; on any failure nothing is left behind.
  public func create(_ options: CreateOptions) throws(RuntimeError) -> Result {
    do { try ContainerID.validate(options.id) } catch { throw RuntimeError(error) }
    let bundle = absolutePath(options.bundle)
    var options = options
    options.bundle = bundle
    options.seccompCache = store.seccompCacheDirectory
    let configBytes = try InputFile.config(bundle: bundle)
    let cgroups = hostCgroups
    let decision = try Self.decide(
      configBytes: configBytes, options: options, hostHasPath: FileIO.existsFollowingLinks, cgroups: cgroups)
    let spec = decision.spec
    var plan = decision.plan
    let effectiveResources = decision.resources
    let cgroupPath = plan.cgroupPath
    if let missing = plan.process.capabilities?.unavailable, !missing.isEmpty {
      log.warning(
        "process.capabilities: \(missing.joined(separator: ", ")) not in this host's bounding set; dropped (see Docs/security.md)"
      )
    }
    for warning in plan.warnings { log.warning(warning) }
    for name in plan.process.capabilities?.skippedAmbient ?? [] {
      log.debug("process.capabilities.ambient: \(name) skipped: not in both permitted and inheritable")
    }
    log.step("validated and planned")
    if plan.mounts.contains(where: \.isCgroup) { plan.cgroupMounts = CgroupMounts(hostHierarchies) }
    plan.selfJoinCgroup = !plan.newUserNamespace && !plan.joins.contains { $0.kind == .user }
    plan.joinUnified = needsUnified(spec.linux?.resources)
    let files = cgroups.selfJoinFiles(cgroupPath, includeUnified: plan.joinUnified)
    if files.isEmpty { plan.selfJoinCgroup = false }
    plan.selfJoinFiles = files.flatMap { $0.utf8CString }
    // The runtime holds host resources from here on: not dumpable, not ptraceable by the container.
    _ = cella_prctl(Prctl.setDumpable, 0, 0, 0, 0)
    let threads = Processes.threadCount()
    if threads != 1 {
      throw RuntimeError(
        "internal: create must run single-threaded before clone, found \(threads) threads", kind: .internal)
    }

    log.step("cgroup path resolved")
    try store.ensureRoot()
    try store.createDirectory(options.id)
    var record = ContainerRecord(
      id: options.id, ociVersion: spec.ociVersion, bundle: bundle, rootfs: plan.rootfs,
      created: rfc3339Now(), owner: ownerName(), annotations: spec.annotations, ownPIDNamespace: plan.ownPIDNamespace)
    record.startReadsConfig = !(spec.hooks?.poststart ?? []).isEmpty || spec.linux?.seccomp?.listenerPath != nil
    record.deleteReadsConfig = !(spec.hooks?.poststop ?? []).isEmpty
    var child: pid_t = 0
    do {
      try store.saveConfig(options.id, configBytes)
      // The first save of the record is setUpCgroup's, with the cgroup it takes; until then the
      // directory holds no state.json, which delete --force and rollback remove as they are.
      try setUpCgroup(cgroups, cgroupPath, effectiveResources, record: &record)
      log.step("state saved, cgroup created")
      if plan.sharesHostMounts {
        try HostRootfs.bind(plan.rootfs) { (mount) throws(RuntimeError) in
          record.hostRootfsMount = mount
          try store.save(record)
        }
        log.step("root.path bound on the host")
      }
      // Cut here, not in the plan: decide must stay free of side effects (checkConfig, the fuzzer).
      // Init gets copies of the fds in the clone; ours are closed on every way out.
      try plan.makeIdmapTrees()
      defer { plan.closeIdmapTrees() }
      var master: Int32? = nil
      child = try launch(plan: plan, spec: spec, record: &record, consoleSocket: options.consoleSocket, master: &master)
      if let pidFile = options.pidFile { try writePIDFile(pidFile, record.pid) }
      return Result(record: record, master: master)
    } catch {
      rollback(record: record, child: child, spec: spec)
      throw error
    }
  }

  /// Makes the container's cgroup. Before each mkdir it records what it is about to make (the leaf in
  /// the record, parents in the store's list), so that delete and rollback remove exactly that. A
  /// cgroup that is there already is taken only when it is empty (runc 1.2 refuses one in use too).
  private func setUpCgroup(
    _ cgroups: any CgroupDriver, _ path: String, _ resources: LinuxResources?, record: inout ContainerRecord
  ) throws(RuntimeError) {
    try store.withCgroupParents { parents throws(RuntimeError) in
      let existed = cgroups.directories(path).contains { FileIO.isDirectory($0) }
      if existed { try checkUnused(cgroups, path, by: record.id) }
      record.cgroupPath = path
      record.cgroupLeafMade = !existed
      try store.save(record)
      // Every parent the mkdirs will make, recorded in one write (a nested path on ten hierarchies
      // would otherwise rewrite the list once per directory); the driver's events then find them
      // recorded, and what nobody announced after all (someone else made it meanwhile) is taken back.
      let expected = Self.missingParents(of: cgroups.directories(path))
      try parents.add(expected)
      var announced: Set<String> = []
      var failure: RuntimeError?
      defer { if failure == nil { try? parents.forget(expected.filter { !announced.contains($0) }) } }
      do throws(CgroupError) {
        try cgroups.create(path) { event throws(CgroupError) in
          do throws(RuntimeError) {
            switch event {
            case .willMakeParent(let dir):
              announced.insert(dir)
              try parents.add([dir])
            case .parentExisted(let dir):
              announced.remove(dir)
              try parents.forget([dir])
            case .leafExisted:
              // Someone made it since the look above: it is not ours, and must be empty to be used.
              guard record.cgroupLeafMade == true else { return }
              record.cgroupLeafMade = false
              do throws(RuntimeError) { try checkUnused(cgroups, path, by: record.id) } catch {
                record.cgroupPath = nil
                try store.save(record)
                throw error
              }
              try store.save(record)
            }
          } catch {
            failure = error
            throw CgroupError(error.message, kind: error.kind)
          }
        }
      } catch { throw failure ?? RuntimeError(error) }
    }
    do {
      if let resources { try cgroups.apply(path, resources) }
    } catch { throw RuntimeError(error) }
  }

  /// The directories above each of `leaves` that do not exist yet, outermost first.
  static func missingParents(of leaves: [String]) -> [String] {
    var missing: [String] = []
    for leaf in leaves {
      var chain: [String] = []
      var dir = leaf
      while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
        dir = String(dir[..<slash])
        if FileIO.isDirectory(dir) { break }
        chain.append(dir)
      }
      missing += chain.reversed()
    }
    return missing
  }

  /// Refuses a cgroup that already exists unless it is empty and no container of this store has it:
  /// whatever is in it would otherwise be killed and removed with the container.
  private func checkUnused(_ cgroups: any CgroupDriver, _ path: String, by id: String) throws(RuntimeError) {
    let field = "config.json: linux.cgroupsPath: \"\(path)\""
    let pids = cgroups.processes(path)
    if !pids.isEmpty {
      throw RuntimeError(
        "\(field) already holds \(pids.count) process\(pids.count == 1 ? "" : "es") (pid \(pids[0])); a container needs a cgroup of its own",
        kind: .invalidState)
    }
    if let child = cgroups.childCgroups(path).first {
      throw RuntimeError(
        "\(field) already has child cgroups (\(child)); a container needs a cgroup of its own", kind: .invalidState)
    }
    for other in store.list() where other != id {
      guard let record = try? store.load(other), record.cgroupPath == path else { continue }
      throw RuntimeError("\(field) is the cgroup of container \"\(other)\"", kind: .alreadyExists)
    }
  }

  /// Undoes a failed create: kill init, remove the state directory, run poststop hooks if create got that far.
  private func rollback(record: ContainerRecord, child: pid_t, spec: Spec) {
    if record.pid > 0 { kill(record.pid, SIGKILL) }
    if child > 0 {
      kill(child, SIGKILL)
      _ = try? Processes.wait(child)
    }
    if let path = record.cgroupPath {
      // The cgroup was empty when create took it: whatever is in it now came with this create.
      let problems = Lifecycle(store: store, log: log).removeCgroup(
        path, leaf: record.cgroupLeafMade ?? true, killLeftovers: true)
      for problem in problems.lines { log.warning("rollback of \"\(record.id)\": \(problem)") }
    }
    if let mount = record.hostRootfsMount {
      do { try HostRootfs.detach(mount) } catch {
        // Without the record nobody could ever undo the mount: keep it for `delete --force`.
        log.warning("\(error.message); the state of \"\(record.id)\" is kept for delete --force")
        return
      }
    }
    try? store.remove(record.id)
  }

  /// Clones init and runs the parent's half of the protocol; returns the pid of the direct child.
  private func launch(
    plan: InitPlan, spec: Spec, record: inout ContainerRecord, consoleSocket: String?, master: inout Int32?
  ) throws(RuntimeError) -> pid_t {
    let (parentEnd, childEnd) = try RuntimeError.wrap("socketpair") { try Packet.pair() }
    defer { parentEnd.close() }
    let listener = try listenForStart(id: record.id)
    defer { close(listener) }
    let restore = try enterNamespacesForChildren(plan: plan, spec: spec)

    var blocked = sigset_t()
    cella_sigset_fill(&blocked)
    var previous = sigset_t()
    sigprocmask(SIG_SETMASK, &blocked, &previous)
    let pid = cella_clone(plan.cloneFlags)
    if pid == 0 {
      parentEnd.close()
      InitProcess.run(plan: plan, channel: childEnd, listener: listener)
    }
    let cloneErrno = errno
    sigprocmask(SIG_SETMASK, &previous, nil)
    childEnd.close()
    restore()
    if pid < 0 {
      throw RuntimeError("clone the container's init", errno: cloneErrno)
    }
    record.pid = pid
    record.pidStartTime = ProcStat.read(pid)?.startTime ?? 0
    try store.save(record)
    log.step("cloned")
    if let path = record.cgroupPath, !plan.selfJoinCgroup {
      // Before `go`: init unshares its cgroup namespace only once it is inside its cgroup.
      do { try hostCgroups.join(path, pid: pid) } catch { throw RuntimeError(error) }
    }

    log.step("init joined its cgroup")
    if plan.newUserNamespace && plan.joins.isEmpty { try writeMaps(pid: pid, plan: plan) }
    try send(parentEnd, .go)
    var initPID = pid
    var hooksRan = false
    while true {
      let received: (InitMessage, Int32)?
      do { received = try parentEnd.receiveMessageWithFD() } catch { throw RuntimeError("init channel", error) }
      let message = received?.0
      if let fd = received?.1, fd >= 0 {
        guard message == .console else {
          close(fd)
          throw RuntimeError("internal: unexpected fd from init", kind: .internal)
        }
        if let consoleSocket {
          defer { close(fd) }
          try Console.send(master: fd, to: consoleSocket)
        } else {
          master = fd
        }
        continue
      }
      switch message {
      case nil:
        // A cgroup create made is new, so any OOM kill in it hit init: name the limit, not the signal.
        if let path = record.cgroupPath, record.cgroupLeafMade == true, hostCgroups.oomKillCount(path) > 0 {
          throw RuntimeError(
            "linux.resources.memory.limit: container init was killed by the OOM killer during set-up; the limit is too small to start the container",
            kind: .invalidArgument)
        }
        throw RuntimeError("container init exited during set-up: \(describeExit(pid))", kind: .system)
      case .error(let kind, let text):
        if hooksRan {
          // A createContainer hook (or anything after the hooks began) failed: runtime.md sends that
          // through destroy and the poststop hooks too.
          kill(initPID, SIGKILL)
          runPoststopAfterFailedCreate(spec, state: try stateJSON(record.state(status: .stopped)))
        }
        throw RuntimeError(text, kind: kind)
      case .needMaps(let p):
        try writeMaps(pid: p, plan: plan)
        try send(parentEnd, .mapsWritten)
      case .initPID(let p):
        _ = try? Processes.wait(pid)
        initPID = p
        record.pid = p
        record.pidStartTime = ProcStat.read(p)?.startTime ?? 0
        try store.save(record)
      case .mountsReady:
        log.step("init mounted the rootfs")
        hooksRan = true
        let state = try stateJSON(record.state(status: .created))
        do {
          try HookRunner.run(spec.hooks?.prestart ?? [], point: .prestart, state: state)
          try HookRunner.run(spec.hooks?.createRuntime ?? [], point: .createRuntime, state: state)
        } catch {
          // The spec sends a failed create through destroy and the poststop hooks.
          kill(initPID, SIGKILL)
          runPoststopAfterFailedCreate(spec, state: try stateJSON(record.state(status: .stopped)))
          throw error
        }
        try send(parentEnd, .proceed(state: state))
      case .ready:
        log.step("init ready")
        record.phase = .created
        try store.save(record)
        try send(parentEnd, .committed)
        // Wait for init to drop its parent-death signal (it closes the channel then); exiting before
        // that would kill it.
        _ = try? parentEnd.receive()
        return pid
      default:
        throw RuntimeError("internal: unexpected message \(String(describing: message)) from init", kind: .internal)
      }
    }
  }

  private func runPoststopAfterFailedCreate(_ spec: Spec, state: String) {
    for failure in HookRunner.runAll(spec.hooks?.poststop ?? [], point: .poststop, state: state) {
      log.warning(failure.message)
    }
  }

  private func send(_ channel: Packet, _ message: InitMessage) throws(RuntimeError) {
    do { try channel.send(message) } catch { throw RuntimeError("talk to container init", error) }
  }

  /// A listening socket in the state directory: `start` connects to it to release init.
  private func listenForStart(id: String) throws(RuntimeError) -> Int32 {
    let fd = Packet.socket()
    if fd < 0 { throw RuntimeError("socket", errno: errno) }
    let dir = open(store.directory(id), O_PATH | O_DIRECTORY | O_CLOEXEC)
    defer { if dir >= 0 { close(dir) } }
    // Bind through /proc/self/fd so that a long --root never overflows sun_path.
    let rc = withSocketAddress("/proc/self/fd/\(dir)/start.sock") { bind(fd, $0, $1) }
    if rc != 0 || listen(fd, 4) != 0 {
      let e = errno
      close(fd)
      throw RuntimeError("listen on \(store.directory(id))/start.sock", errno: e)
    }
    return fd
  }

  /// Joins a pid namespace by path and creates a time namespace for the children of this process;
  /// returns a closure that puts this process back.
  private func enterNamespacesForChildren(plan: InitPlan, spec: Spec) throws(RuntimeError) -> () -> Void {
    var undo: [() -> Void] = []
    for ns in spec.linux?.namespaces ?? [] {
      guard let kind = NamespaceKind(rawValue: ns.type), kind == .pid || kind == .time else { continue }
      let own = open("/proc/self/ns/\(kind == .pid ? "pid" : "time")", O_RDONLY | O_CLOEXEC)
      if let path = ns.path, !path.isEmpty {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 || cella_setns(fd, kind.cloneFlag) != 0 {
          let e = errno
          if fd >= 0 { close(fd) }
          close(own)
          throw RuntimeError("linux.namespaces: join \(kind.rawValue) namespace \(path)", errno: e)
        }
        close(fd)
      } else if kind == .time {
        if cella_unshare(kind.cloneFlag) != 0 {
          close(own)
          throw RuntimeError("linux.namespaces: new time namespace", errno: errno)
        }
        var text = ""
        for (clock, offset) in (spec.linux?.timeOffsets ?? [:]).sorted(by: { $0.key < $1.key }) {
          text += "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
        }
        if !text.isEmpty {
          do { try FileIO.write("/proc/self/timens_offsets", text) } catch {
            close(own)
            throw RuntimeError("linux.timeOffsets", error)
          }
        }
      } else {
        close(own)
        continue
      }
      undo.append {
        _ = cella_setns(own, kind.cloneFlag)
        close(own)
      }
    }
    return { undo.forEach { $0() } }
  }

  private func writeMaps(pid: pid_t, plan: InitPlan) throws(RuntimeError) {
    do {
      if !plan.uidMap.isEmpty { try FileIO.write("/proc/\(pid)/uid_map", plan.uidMap) }
      if !plan.gidMap.isEmpty { try FileIO.write("/proc/\(pid)/gid_map", plan.gidMap) }
    } catch {
      throw RuntimeError(
        "linux.uidMappings/gidMappings: write \(error.path ?? "map"): \(error.reason)", kind: .invalidArgument)
    }
  }

}

/// How a child of ours ended, if it did ("exit status 1", "killed by signal 9").
func describeExit(_ pid: pid_t) -> String {
  var status: Int32 = 0
  guard waitpid(pid, &status, WNOHANG) == pid else { return "no exit status yet" }
  if cella_wifsignaled(status) != 0 { return "killed by signal \(cella_wtermsig(status))" }
  return "exit status \(cella_wexitstatus(status))"
}

/// Writes `--pid-file` atomically (clients read it as soon as the verb returns).
func writePIDFile(_ file: String, _ pid: Int32) throws(RuntimeError) {
  let path = absolutePath(file)
  let parts = path.split(separator: "/")
  try RuntimeError.wrap("--pid-file \(path)") {
    try FileIO.writeAtomically(
      directory: "/" + parts.dropLast().joined(separator: "/"), name: String(parts.last ?? ""),
      Array("\(pid)".utf8), mode: 0o644)
  }
}

/// Whether the container needs the v2 part of a hybrid host (controllers only that mount has).
func needsUnified(_ r: LinuxResources?) -> Bool {
  !(r?.hugepageLimits ?? []).isEmpty || !(r?.unified ?? [:]).isEmpty
}

/// The name of the calling user (runc's `owner`).
func ownerName() -> String {
  guard let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name else { return String(geteuid()) }
  return String(cString: name)
}

/// What `create` decides before it touches the host.
struct CreateDecision {
  var spec: Spec
  var plan: InitPlan
  /// linux.resources with the default device rules added (see DeviceRules).
  var resources: LinuxResources?
}

extension Creator {
  /// Decodes, validates and plans a config: every check `create` makes before it records anything.
  /// Side-effect free: `hostHasPath` and `cgroups` only read, and seccomp compiles in memory when
  /// `options.seccompCache` is nil.
  static func decide(
    configBytes: [UInt8], options: CreateOptions, hostHasPath: @escaping @Sendable (String) -> Bool,
    cgroups: any CgroupDriver
  ) throws(RuntimeError) -> CreateDecision {
    let spec: Spec
    do {
      spec = try SpecLoader.decode(configBytes, file: "config.json")
      try SpecValidator(bundle: options.bundle, hostHasPath: hostHasPath).validate(spec)
    } catch { throw RuntimeError(error) }
    if spec.process?.terminal == true && options.consoleSocket == nil && !options.foreground {
      throw RuntimeError(
        "process.terminal is true but no --console-socket was given; use --console-socket, or set \"terminal\": false",
        kind: .invalidArgument)
    }
    var plan = try InitPlan(spec: spec, options: options)
    if plan.sharesHostMounts && (plan.newUserNamespace || plan.joins.contains { $0.kind == .user }) {
      throw RuntimeError(
        "config.json: linux.namespaces: a user namespace needs a mount namespace too (the host's mounts are not its to change); add {\"type\": \"mount\"}",
        kind: .invalidArgument
      )
    }
    let resources = DeviceRules.effective(spec.linux?.resources, devices: spec.linux?.devices ?? [])
    let cgroupPath: String
    do {
      cgroupPath = try Cgroups.resolvePath(spec.linux?.cgroupsPath, id: options.id, systemd: options.systemdCgroup)
      if let resources { try cgroups.validate(resources) }
    } catch { throw RuntimeError("config.json: \(error.message)", kind: error.kind) }
    plan.cgroupPath = cgroupPath
    return CreateDecision(spec: spec, plan: plan, resources: resources)
  }

  /// `decide` for callers outside the module (the fuzzer, a dry run): the first error, or nothing.
  public static func checkConfig(
    _ configBytes: [UInt8], options: CreateOptions, hostHasPath: @escaping @Sendable (String) -> Bool,
    cgroups: any CgroupDriver
  ) throws(RuntimeError) {
    _ = try decide(configBytes: configBytes, options: options, hostHasPath: hostHasPath, cgroups: cgroups)
  }
}
