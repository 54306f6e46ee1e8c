import CShims
import CellaOCI
import CellaRuntimeCore
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
    if plan.selfJoinCgroup {
      // Still in the host's mount view and single-threaded: the cheap way into the cgroup.
      let failed = plan.selfJoinFiles.withUnsafeBufferPointer { cella_write_zero_each($0.baseAddress, $0.count) }
      if failed != 0 {
        let e = errno
        let files = plan.selfJoinFiles.split(separator: 0).map {
          String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        throw RuntimeError("join cgroup: write \(files[Int(failed) - 1]): \(SysError.describe(e))")
      }
    }

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
    if plan.newCgroupNamespace && cella_unshare(NamespaceKind.cgroup.cloneFlag) != 0 {
      throw RuntimeError("unshare the cgroup namespace: \(SysError.describe(errno))")
    }
    if plan.newUserNamespace {
      if cella_setresgid(0, 0, 0) != 0 || cella_setresuid(0, 0, 0) != 0 {
        throw RuntimeError("linux.uidMappings: container uid/gid 0 must be mapped: \(SysError.describe(errno))")
      }
    }
    // Still privileged in the namespace's owner (a new user namespace included), before any user switch.
    if plan.newNetworkNamespace { try Loopback.bringUp() }
    umask(0)
    var rootfs = Rootfs(plan: plan)
    try rootfs.prepare()
    if let adj = plan.process.oomScoreAdj {
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
    try ProcessLauncher.applyRlimits(plan.process)
    if let p = plan.personality, cella_personality(UInt(p)) < 0 {
      throw RuntimeError("linux.personality: \(SysError.describe(errno))")
    }
    if !plan.noNewKeyring && cella_join_session_keyring("_ses.\(plan.id)") < 0 && errno != ENOSYS {
      throw RuntimeError("create a session keyring: \(SysError.describe(errno)) (--no-new-keyring skips it)")
    }
    try ProcessLauncher.enterCwd(plan.process.cwd)
    guard let command = plan.process.args.first else { throw RuntimeError("process.args is empty") }
    let executable: String
    do { executable = try ExecLookup.resolve(command, env: plan.process.env) } catch {
      // Docker's words stay in the message (clients match them); the field says where to look.
      throw RuntimeError("process.args[0]: \(error.message)", exitCode: error.exitCode)
    }
    if plan.process.terminal {
      let master = try Console.attach(size: plan.process.consoleSize)
      try RuntimeError.wrap("init") { try channel.send(InitMessage.console.bytes, fd: master) }
      close(master)
    }

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
      try ProcessLauncher.exec(plan.process, executable: executable, runtime: reply)
    } catch {
      try? reply.send(.error(error.message))
      _exit(error.exitCode == 0 ? 1 : error.exitCode)
    }
  }
}
