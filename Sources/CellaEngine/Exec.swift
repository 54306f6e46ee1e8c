import CShims
import CellaCgroups
import CellaOCI
import CellaRuntimeCore
import CellaSecurity
import CellaSys
import Glibc

/// Options of `exec` (runc's flags).
public struct ExecOptions: Sendable {
  public var id: String
  /// Path of a process.json (an OCI `process` object); replaces the container's process entirely.
  public var processFile: String?
  public var args: [String] = []
  public var tty = false
  public var consoleSocket: String?
  public var detach = false
  public var pidFile: String?
  public var cwd: String?
  public var env: [String] = []
  /// "uid" or "uid:gid".
  public var user: String?
  public var additionalGids: [UInt32] = []
  public var caps: [String] = []
  public var noNewPrivs = false
  public var preserveFDs: Int32 = 0
  public var ignorePaused = false

  public init(id: String) { self.id = id }
}

extension Lifecycle {
  /// `exec`: runs a new process inside a running container — its namespaces (joined through a pidfd),
  /// its root, and its security context unless the flags override it. Returns the exit code when not detached.
  public func exec(_ options: ExecOptions) throws(RuntimeError) -> Int32 {
    let record = try store.load(options.id)
    let status = record.status
    guard status.canExec || (status == .paused && options.ignorePaused) else {
      throw RuntimeError(
        "cannot exec in container \"\(options.id)\": it is \(status.rawValue), not running", kind: .invalidState)
    }
    let spec = try store.loadConfig(options.id)
    let plan = try execPlan(options, spec: spec)
    if plan.terminal && options.consoleSocket == nil && options.detach {
      throw RuntimeError("exec --tty --detach needs --console-socket to receive the terminal", kind: .invalidArgument)
    }
    guard let command = plan.args.first else {
      throw RuntimeError(
        "exec: no command given (pass it after the container id, or use --process)", kind: .invalidArgument)
    }

    let pidfd = cella_pidfd_open(record.pid, 0)
    if pidfd < 0 {
      throw RuntimeError(
        "cannot exec in \"\(options.id)\": its init is gone (\(SysError.describe(errno)))", kind: .invalidState)
    }
    defer { close(pidfd) }
    guard record.initIsAlive else {
      throw RuntimeError("cannot exec in \"\(options.id)\": its init has exited", kind: .invalidState)
    }
    let rootFD = open("/proc/\(record.pid)/root", O_PATH | O_DIRECTORY | O_CLOEXEC)
    if rootFD < 0 { throw RuntimeError("open the container's root", errno: errno) }
    defer { close(rootFD) }
    var nsFlags: Int32 = 0
    for kind in NamespaceKind.allCases
    where Processes.namespaceLink(pid: record.pid, kind: kind.procName)
      != Processes.namespaceLink(pid: getpid(), kind: kind.procName)
    {
      nsFlags |= kind.cloneFlag
    }
    if Processes.threadCount() != 1 {
      throw RuntimeError("internal: exec must run single-threaded before clone", kind: .internal)
    }
    _ = cella_prctl(Prctl.setDumpable, 0, 0, 0, 0)
    if !options.detach {
      _ = cella_prctl(Prctl.setChildSubreaper, 1, 0, 0, 0)
      var all = sigset_t()
      cella_sigset_fill(&all)
      sigprocmask(SIG_BLOCK, &all, nil)
    }
    let (parentEnd, childEnd) = try RuntimeError.wrap("socketpair") { try Packet.pair() }
    defer { parentEnd.close() }
    let child = cella_clone(0)
    if child < 0 { throw RuntimeError("clone", errno: errno) }
    if child == 0 {
      parentEnd.close()
      ExecProcess.run(
        plan: plan, command: command, pidfd: pidfd, nsFlags: nsFlags, rootFD: rootFD, channel: childEnd,
        cgroup: record.cgroupPath.map { ($0, needsUnified(spec.linux?.resources)) })
    }
    childEnd.close()

    var target: pid_t = 0
    var master: Int32? = nil
    do {
      while true {
        let received = try RuntimeError.wrap("exec channel") { try parentEnd.receiveMessageWithFD() }
        guard let (message, fd) = received else { break }  // EOF: exec succeeded
        if fd >= 0 && message == .seccompListener {
          defer { close(fd) }
          try forwardSeccompListener(fd, spec: spec, pid: target, state: try stateJSON(record.state()))
          continue
        }
        if fd >= 0 {
          if let socket = options.consoleSocket {
            defer { close(fd) }
            try Console.send(master: fd, to: socket)
          } else {
            master = fd
          }
          continue
        }
        switch message {
        case .initPID(let p):
          _ = try? Processes.wait(child)
          target = p

          try RuntimeError.wrap("exec") { try parentEnd.send(InitMessage.go) }
        case .error(let kind, let text):
          throw RuntimeError(text, kind: kind)
        default:
          throw RuntimeError("internal: unexpected message from the exec process", kind: .internal)
        }
      }
    } catch {
      if target > 0 {
        Glibc.kill(target, SIGKILL)
        // We are its subreaper when in the foreground; reap it rather than leave a zombie.
        if !options.detach { _ = try? Processes.wait(target) }
      }
      Glibc.kill(child, SIGKILL)
      _ = try? Processes.wait(child)
      if let master { close(master) }
      throw (error as? RuntimeError) ?? RuntimeError("exec: \(error)", kind: .internal)
    }
    if target == 0 {
      throw RuntimeError("exec: the process exited before it ran (\(describeExit(child)))", kind: .system)
    }
    if let pidFile = options.pidFile { try writePIDFile(pidFile, target) }
    if options.detach { return 0 }
    let code = Foreground(pid: target, master: master).wait()
    if let master { close(master) }
    return code
  }

  /// The process to run: --process, or the container's process with runc's flag overrides.
  func execPlan(_ o: ExecOptions, spec: Spec) throws(RuntimeError) -> ProcessPlan {
    var process: Process
    if let file = o.processFile {
      process = try InputFile.decode(Process.self, from: file, flag: "--process")
      do {
        var validator = SpecValidator(bundle: "", hostHasPath: FileIO.existsFollowingLinks)
        validator.file = file
        try validator.checkProcessUnsupported(process, field: "")
        try validator.checkProcessNumbers(process, field: "")
      } catch { throw RuntimeError(error) }
    } else {
      guard var base = spec.process else {
        throw RuntimeError("config.json has no process to base exec on", kind: .invalidArgument)
      }
      base.args = o.args
      base.terminal = o.tty
      if let cwd = o.cwd { base.cwd = cwd }
      var env = base.env ?? []
      for entry in o.env {
        let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
        env.removeAll { $0.hasPrefix(key + "=") }
        env.append(entry)
      }
      base.env = env
      if let user = o.user {
        let parts = user.split(separator: ":")
        guard let uid = parts.first.flatMap({ UInt32($0) }), parts.count <= 2 else {
          throw RuntimeError("--user \"\(user)\": use UID or UID:GID (numbers)", kind: .invalidArgument)
        }
        let gid = parts.count == 2 ? UInt32(parts[1]) : nil
        if parts.count == 2 && gid == nil {
          throw RuntimeError("--user \"\(user)\": GID must be a number", kind: .invalidArgument)
        }
        do {
          base.user.uid = try IntegerRange.check(uid, in: SpecValidator.ids, "--user UID")
          if let gid { base.user.gid = try IntegerRange.check(gid, in: SpecValidator.ids, "--user GID") }
        } catch { throw RuntimeError(error) }
      }
      if !o.additionalGids.isEmpty { base.user.additionalGids = o.additionalGids }
      if !o.caps.isEmpty {
        var caps = base.capabilities ?? LinuxCapabilities()
        caps.bounding = (caps.bounding ?? []) + o.caps
        caps.effective = (caps.effective ?? []) + o.caps
        caps.permitted = (caps.permitted ?? []) + o.caps
        base.capabilities = caps
      }
      if o.noNewPrivs { base.noNewPrivileges = true }
      process = base
    }
    var plan = try ProcessPlan(process, field: o.processFile == nil ? "process" : "--process")
    plan.preserveFDs = o.preserveFDs
    plan.seccomp = try compileSeccomp(
      spec.linux?.seccomp, cache: SeccompCache(directory: store.seccompCacheDirectory), warn: log.warning)
    return plan
  }
}

/// The exec'd process: joins the container, enters its pid namespace with a second fork, then execs.
enum ExecProcess {
  static func run(
    plan: ProcessPlan, command: String, pidfd: Int32, nsFlags: Int32, rootFD: Int32, channel: Packet,
    cgroup: (path: String, includeUnified: Bool)?
  ) -> Never {
    var empty = sigset_t()
    cella_sigset_empty(&empty)
    sigprocmask(SIG_SETMASK, &empty, nil)
    _ = cella_prctl(Prctl.setPdeathsig, UInt(SIGKILL), 0, 0, 0)
    do {
      if let cgroup {
        // Before setns: the host's cgroup files are only visible from the host's mount namespace.
        do { try hostCgroups.joinSelf(cgroup.path, includeUnified: cgroup.includeUnified) } catch {
          throw RuntimeError(error)
        }
      }
      if nsFlags != 0 && cella_setns(pidfd, nsFlags) != 0 {
        throw RuntimeError("join the container's namespaces", errno: errno)
      }
      let child = fork()
      if child < 0 { throw RuntimeError("fork into the container's pid namespace", errno: errno) }
      if child > 0 {
        try? channel.send(.initPID(child))
        _exit(0)
      }
      // No parent-death signal here: our parent is the middle process, which exits now. A runtime that
      // dies makes the next receive see EOF instead.
      guard case .go? = try? channel.receiveMessage() else { _exit(1) }
      // The namespace's root is the container's only after pivot_root; --no-pivot needs the chroot.
      if fchdir(rootFD) != 0 || chroot(".") != 0 {
        throw RuntimeError("enter the container's root", errno: errno)
      }
      close(rootFD)
      close(pidfd)
      try ProcessLauncher.applyRlimits(plan)
      try ProcessLauncher.enterCwd(plan.cwd)
      let executable = try ExecLookup.resolve(command, env: plan.env)
      if plan.terminal {
        let master = try Console.attach(size: plan.consoleSize)
        try RuntimeError.wrap("exec") { try channel.send(InitMessage.console.bytes, fd: master) }
        close(master)
      }
      try ProcessLauncher.exec(plan, executable: executable, runtime: channel)
    } catch let error as RuntimeError {
      try? channel.send(.error(error.kind, error.message))
      _exit(1)
    } catch {
      _exit(1)
    }
  }
}
