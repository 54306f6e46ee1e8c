import CShims
import CellaOCI
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

  /// Drops privileges, closes inherited fds and execs `executable`; returns only by throwing.
  static func exec(_ p: ProcessPlan, executable: String) throws(RuntimeError) -> Never {
    try dropPrivileges(p)
    umask(p.umask ?? 0o022)
    for sig in Int32(1)...31 where sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
    var empty = sigset_t()
    cella_sigset_empty(&empty)
    sigprocmask(SIG_SETMASK, &empty, nil)
    // No host fd may survive into the container (CVE-2024-21626 class).
    _ = cella_close_range(UInt32(3 + p.preserveFDs), UInt32.max, CLOSE_RANGE_CLOEXEC)
    let argv = p.args.map { strdup($0) } + [nil]
    let envp = p.env.map { strdup($0) } + [nil]
    execve(executable, argv, envp)
    let e = errno
    throw RuntimeError("exec \(executable): \(SysError.describe(e))", exitCode: e == ENOENT ? 127 : 126)
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
