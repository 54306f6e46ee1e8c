import CShims
import CellaOCI
import CellaSecurity
import CellaSys
import Glibc

/// The container's init process: runs in the clone of `create`, sets up the container, waits for
/// `start`, then execs the user's program. It never returns; every failure goes back as one line.
enum InitProcess {
  static func run(plan: InitPlan, channel: Packet, listener: Int32) -> Never {
    var empty = sigset_t()
    cella_sigset_empty(&empty)
    sigprocmask(SIG_SETMASK, &empty, nil)
    do {
      try setUp(plan: plan, channel: channel, listener: listener)
    } catch {
      try? channel.send(.error(error.message))
      _exit(error.exitCode == 0 ? 1 : error.exitCode)
    }
    _exit(1)
  }

  private static func expect(_ channel: Packet, _ wanted: InitMessage) throws(RuntimeError) {
    let got: InitMessage?
    do { got = try channel.receiveMessage() } catch { _exit(1) }
    guard let got else { _exit(1) }  // the runtime is gone: nobody will clean up after us, so stop now
    if got != wanted { throw RuntimeError("init: expected \(wanted), got \(got)") }
  }

  private static func setUp(plan: InitPlan, channel: Packet, listener: Int32) throws(RuntimeError) {
    _ = cella_prctl(Prctl.setPdeathsig, UInt(SIGKILL), 0, 0, 0)
    // Until exec, this process is the runtime binary holding host resources: keep the container from
    // ptracing it or opening /proc/PID/exe (CVE-2019-5736 class); execve makes the program dumpable again.
    _ = cella_prctl(Prctl.setDumpable, 0, 0, 0, 0)
    try expect(channel, .go)

    if !plan.joins.isEmpty {
      for (kind, path) in plan.joins {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
          throw RuntimeError("linux.namespaces: open \(kind.rawValue) namespace \(path): \(SysError.describe(errno))")
        }
        if cella_setns(fd, kind.cloneFlag) != 0 {
          throw RuntimeError("linux.namespaces: join \(kind.rawValue) namespace \(path): \(SysError.describe(errno))")
        }
        close(fd)
      }
      if plan.unshareFlags != 0 {
        if cella_unshare(plan.unshareFlags) != 0 {
          throw RuntimeError("unshare namespaces: \(SysError.describe(errno))")
        }
        if plan.newUserNamespace {
          try RuntimeError.wrap("init") { try channel.send(.needMaps(pid: getpid())) }
          try expect(channel, .mapsWritten)
        }
      }
      if plan.forkAfterUnshare {
        let child = fork()
        if child < 0 { throw RuntimeError("fork into the new pid namespace: \(SysError.describe(errno))") }
        if child > 0 {
          try? channel.send(.initPID(child))
          _exit(0)
        }
      }
    }
    if plan.newUserNamespace {
      if cella_setresgid(0, 0, 0) != 0 || cella_setresuid(0, 0, 0) != 0 {
        throw RuntimeError("linux.uidMappings: container uid/gid 0 must be mapped: \(SysError.describe(errno))")
      }
    }
    umask(0)
    var rootfs = Rootfs(plan: plan)
    try rootfs.prepare()
    if let adj = plan.oomScoreAdj {
      try RuntimeError.wrap("process.oomScoreAdj") { try FileIO.write("/proc/self/oom_score_adj", String(adj)) }
    }

    try RuntimeError.wrap("init") { try channel.send(.mountsReady) }
    let state: String
    do {
      guard case .proceed(let s)? = try channel.receiveMessage() else { _exit(1) }
      state = s
    } catch { _exit(1) }
    try HookRunner.run(plan.createContainerHooks, point: .createContainer, state: state)

    try rootfs.harden()
    try rootfs.pivot()
    try rootfs.finish()
    if let hostname = plan.hostname, sethostname(hostname, hostname.utf8.count) != 0 {
      throw RuntimeError("hostname \"\(hostname)\": \(SysError.describe(errno))")
    }
    if let domain = plan.domainname, setdomainname(domain, domain.utf8.count) != 0 {
      throw RuntimeError("domainname \"\(domain)\": \(SysError.describe(errno))")
    }
    for limit in plan.rlimits {
      var rl = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
      if setrlimit(__rlimit_resource_t(UInt32(limit.resource)), &rl) != 0 {
        let hint = errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE, which this host withholds)" : ""
        throw RuntimeError("process.rlimits \(limit.name): \(SysError.describe(errno))\(hint)")
      }
    }
    if let p = plan.personality, cella_personality(UInt(p)) < 0 {
      throw RuntimeError("linux.personality: \(SysError.describe(errno))")
    }
    if !plan.noNewKeyring && cella_join_session_keyring("_ses.\(plan.id)") < 0 && errno != ENOSYS {
      throw RuntimeError("create a session keyring: \(SysError.describe(errno)) (--no-new-keyring skips it)")
    }
    try enterCwd(plan.cwd)
    guard let command = plan.args.first else { throw RuntimeError("process.args is empty") }
    let executable = try ExecLookup.resolve(command, env: plan.env)

    try RuntimeError.wrap("init") { try channel.send(.ready) }
    try expect(channel, .committed)
    _ = cella_prctl(Prctl.setPdeathsig, 0, 0, 0, 0)
    channel.close()

    // Wait for `start`: it connects, sends the state, and reads our answer until exec closes the socket.
    var conn: Int32
    repeat { conn = cella_accept4(listener, Int32(SOCK_CLOEXEC.rawValue)) } while conn < 0 && errno == EINTR
    if conn < 0 { _exit(1) }
    close(listener)
    let reply = Packet(fd: conn)
    do {
      guard case .start(let startState)? = try? reply.receiveMessage() else { _exit(1) }
      try HookRunner.run(plan.startContainerHooks, point: .startContainer, state: startState)
      try dropPrivileges(plan)
      umask(plan.umask ?? 0o022)
      for sig in Int32(1)...31 where sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
      _ = cella_close_range(UInt32(3 + plan.preserveFDs), UInt32.max, CLOSE_RANGE_CLOEXEC)
      let argv = plan.args.map { strdup($0) } + [nil]
      let envp = plan.env.map { strdup($0) } + [nil]
      execve(executable, argv, envp)
      let e = errno
      throw RuntimeError(
        "exec \(executable): \(SysError.describe(e))", exitCode: e == ENOENT ? 127 : 126)
    } catch let error as RuntimeError {
      try? reply.send(.error(error.message))
      _exit(error.exitCode == 0 ? 1 : error.exitCode)
    } catch {
      _exit(1)
    }
  }

  /// chdir to process.cwd, created if missing, never through a magic link or out of the root.
  private static func enterCwd(_ cwd: String) throws(RuntimeError) {
    let root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
    defer { close(root) }
    let fd: Int32
    do { fd = try InRoot.mkdirAll(root: root, cwd) } catch {
      throw RuntimeError("process.cwd \(cwd): \(error.reason) (the cwd must be a directory inside the container)")
    }
    defer { close(fd) }
    if fchdir(fd) != 0 { throw RuntimeError("process.cwd \(cwd): \(SysError.describe(errno))") }
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil, buf[0] == CChar(UInt8(ascii: "/")) else {
      throw RuntimeError("process.cwd \(cwd): resolves outside the container's root")
    }
  }

  /// Bounding set, user, capability sets and no_new_privs, in the order the kernel needs: the
  /// bounding set while still privileged, permitted capabilities kept across the uid switch, ambient last.
  private static func dropPrivileges(_ plan: InitPlan) throws(RuntimeError) {
    if let caps = plan.capabilities {
      _ = cella_prctl(Prctl.setKeepCaps, 1, 0, 0, 0)
      do { try Capabilities.applyBounding(caps) } catch { throw RuntimeError(error.message) }
    }
    try becomeUser(plan)
    if let caps = plan.capabilities {
      do { try Capabilities.applySets(caps) } catch { throw RuntimeError(error.message) }
      _ = cella_prctl(Prctl.setKeepCaps, 0, 0, 0, 0)
    }
    if plan.noNewPrivileges && cella_prctl(Prctl.setNoNewPrivs, 1, 0, 0, 0) != 0 {
      throw RuntimeError("process.noNewPrivileges: \(SysError.describe(errno))")
    }
  }

  /// Switches to process.user (groups first, then gid, then uid).
  private static func becomeUser(_ plan: InitPlan) throws(RuntimeError) {
    var groups = plan.additionalGids.map { gid_t($0) }
    if setgroups(groups.count, &groups) != 0 && !(errno == EPERM && groups.isEmpty) {
      throw RuntimeError("process.user.additionalGids: setgroups: \(SysError.describe(errno))")
    }
    if cella_setresgid(plan.gid, plan.gid, plan.gid) != 0 {
      throw RuntimeError("process.user.gid \(plan.gid): \(SysError.describe(errno))")
    }
    if cella_setresuid(plan.uid, plan.uid, plan.uid) != 0 {
      throw RuntimeError("process.user.uid \(plan.uid): \(SysError.describe(errno))")
    }
  }
}
