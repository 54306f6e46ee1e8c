import CShims
import CellaOCI
import CellaRuntimeCore
import CellaSecurity
import CellaSys
import Glibc

/// The last steps of every container process (init's program and `exec`): limits, cwd, privileges, exec.
enum ProcessLauncher {
  /// setrlimit for process.rlimits (before the uid switch: raising a hard limit needs privilege).
  static func applyRlimits(_ p: ProcessPlan, field: String = "process") throws(RuntimeError) {
    for limit in p.rlimits {
      var rl = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
      if setrlimit(__rlimit_resource_t(UInt32(limit.resource)), &rl) != 0 {
        let hint = errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE, which this host withholds)" : ""
        throw RuntimeError("\(field).rlimits \(limit.name): \(SysError.describe(errno))\(hint)")
      }
    }
  }

  /// chdir to the cwd, created if missing, never through a magic link or out of the root.
  static func enterCwd(_ cwd: String, field: String = "process.cwd") throws(RuntimeError) {
    let root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
    defer { close(root) }
    let fd: Int32
    do { fd = try InRoot.mkdirAll(root: root, cwd) } catch {
      throw RuntimeError("\(field) \(cwd): \(error.reason) (the cwd must be a directory inside the container)")
    }
    defer { close(fd) }
    if fchdir(fd) != 0 { throw RuntimeError("\(field) \(cwd): \(SysError.describe(errno))") }
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil, buf[0] == CChar(UInt8(ascii: "/")) else {
      throw RuntimeError("\(field) \(cwd): resolves outside the container's root")
    }
  }

  /// Drops privileges, loads seccomp, closes inherited fds and execs `executable`; returns only by
  /// throwing. A seccomp notify listener fd goes to `runtime`, which hands it to listenerPath.
  static func exec(_ p: ProcessPlan, executable: String, runtime: Packet) throws(RuntimeError) -> Never {
    umask(p.umask ?? 0o022)
    for sig in Int32(1)...31 where sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
    var empty = sigset_t()
    cella_sigset_empty(&empty)
    sigprocmask(SIG_SETMASK, &empty, nil)
    // No host fd may survive into the container (CVE-2024-21626 class).
    let firstClosed: UInt32
    do { firstClosed = try IntegerRange.convert(3 + Int64(p.preserveFDs), to: UInt32.self, "--preserve-fds") } catch {
      throw RuntimeError(error)
    }
    _ = cella_close_range(firstClosed, UInt32.max, CLOSE_RANGE_CLOEXEC)
    // The filter goes in as late as possible, so that it constrains the user program and not our own
    // set-up calls. Loading needs no_new_privs or CAP_SYS_ADMIN: when the final privileges have
    // neither, it must go in before they drop (and such a profile must allow prctl, capset, setres*id).
    let keepsAdmin = p.capabilities.map { $0.effective & (1 << 21) != 0 } ?? (p.uid == 0)
    if let filter = p.seccomp, !p.noNewPrivileges && !keepsAdmin {
      try loadSeccomp(filter, runtime: runtime)
      try dropPrivileges(p)
    } else {
      try dropPrivileges(p)
      if let filter = p.seccomp { try loadSeccomp(filter, runtime: runtime) }
    }
    let argv = p.args.map { strdup($0) } + [nil]
    let envp = p.env.map { strdup($0) } + [nil]
    execve(executable, argv, envp)
    let e = errno
    throw RuntimeError("exec \(executable): \(SysError.describe(e))", exitCode: e == ENOENT ? 127 : 126)
  }

  private static func loadSeccomp(_ filter: CompiledSeccomp, runtime: Packet) throws(RuntimeError) {
    let listener: Int32
    do { listener = try SeccompLoader.load(filter) } catch { throw RuntimeError("linux.seccomp: \(error.message)") }
    if listener >= 0 {
      // One sendmsg: a profile that notifies on sendmsg itself would wait for a listener that never gets the fd.
      try RuntimeError.wrap("linux.seccomp: pass the notify fd") {
        try runtime.send(InitMessage.seccompListener.bytes, fd: listener)
      }
      close(listener)
    }
  }

  /// Bounding set, user, capability sets and no_new_privs, in the order the kernel needs: the
  /// bounding set while still privileged, permitted capabilities kept across the uid switch, ambient last.
  static func dropPrivileges(_ p: ProcessPlan) throws(RuntimeError) {
    if let caps = p.capabilities {
      _ = cella_prctl(Prctl.setKeepCaps, 1, 0, 0, 0)
      do { try Capabilities.applyBounding(caps) } catch { throw RuntimeError(error.message) }
    }
    try becomeUser(p)
    if let caps = p.capabilities {
      do { try Capabilities.applySets(caps) } catch { throw RuntimeError(error.message) }
      _ = cella_prctl(Prctl.setKeepCaps, 0, 0, 0, 0)
    }
    if p.noNewPrivileges && cella_prctl(Prctl.setNoNewPrivs, 1, 0, 0, 0) != 0 {
      throw RuntimeError("process.noNewPrivileges: \(SysError.describe(errno))")
    }
  }

  /// Switches to the process user (groups first, then gid, then uid).
  static func becomeUser(_ p: ProcessPlan) throws(RuntimeError) {
    var groups = p.additionalGids.map { gid_t($0) }
    if setgroups(groups.count, &groups) != 0 && !(errno == EPERM && groups.isEmpty) {
      throw RuntimeError("process.user.additionalGids: setgroups: \(SysError.describe(errno))")
    }
    if cella_setresgid(p.gid, p.gid, p.gid) != 0 {
      throw RuntimeError("process.user.gid \(p.gid): \(SysError.describe(errno))")
    }
    if cella_setresuid(p.uid, p.uid, p.uid) != 0 {
      throw RuntimeError("process.user.uid \(p.uid): \(SysError.describe(errno))")
    }
  }
}
