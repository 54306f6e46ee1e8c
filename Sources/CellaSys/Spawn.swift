import CShims
import Glibc

/// posix_spawn with explicit stdio, an empty signal mask and default signal handlers.
///
/// Used for hooks, the keeper and the runtime it runs: it never forks the Swift process, so it is
/// safe from any context.
public enum Spawn {
  /// The environment of the host tools the daemon runs (nft, dnsmasq): the system's binaries and the C
  /// locale, whose messages the one-line errors quote; nothing of the caller's environment.
  public static let toolEnvironment = ["PATH=" + toolDirectories.joined(separator: ":"), "LC_ALL=C"]

  /// Where host tools are looked for, in order.
  public static let toolDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

  /// The absolute path of the host tool `name` in `toolDirectories`, nil when it is not installed.
  public static func findTool(_ name: String) -> String? {
    toolDirectories.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
  }

  /// Starts `path` with `argv` and `env`; the given fds become 0, 1 and 2 of the child. With `cwd` the
  /// child starts there, with `newSession` it leads a new session (no controlling terminal, out of the
  /// caller's process group), and with `closeOthers` it inherits no fd but those three, close-on-exec or not.
  /// The fds in `passing` become the child's 3, 4, … in that order (a VM's taps reach QEMU this way).
  public static func start(
    path: String, argv: [String], env: [String], stdin: Int32, stdout: Int32, stderr: Int32, cwd: String? = nil,
    newSession: Bool = false, closeOthers: Bool = false, passing: [Int32] = []
  ) throws(SysError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    // Copies above the targets first, so no dup2 overwrites a source that another one still needs.
    var copies: [Int32] = []
    defer { copies.forEach { _ = close($0) } }
    for fd in passing {
      let copy = cella_fcntl(fd, F_DUPFD_CLOEXEC, 3 + Int32(passing.count))
      if copy < 0 { throw SysError("dup", path: "fd \(fd) for \(path)", errno: errno) }
      copies.append(copy)
    }
    for (i, copy) in copies.enumerated() { posix_spawn_file_actions_adddup2(&actions, copy, 3 + Int32(i)) }
    // These return the error number instead of setting errno.
    if closeOthers {
      let rc = cella_spawn_addclosefrom(&actions, 3 + Int32(passing.count))
      if rc != 0 { throw SysError("posix_spawn_file_actions_addclosefrom_np", path: path, errno: rc) }
    }
    if let cwd {
      let rc = cella_spawn_addchdir(&actions, cwd)
      if rc != 0 { throw SysError("posix_spawn_file_actions_addchdir_np", path: cwd, errno: rc) }
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    cella_sigset_empty(&empty)
    var all = sigset_t()
    cella_sigset_fill(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    if newSession { flags |= cella_spawn_setsid_flag() }
    posix_spawnattr_setflags(&attr, flags)
    var pid: pid_t = 0
    let cargv = argv.map { strdup($0) } + [nil]
    let cenv = env.map { strdup($0) } + [nil]
    defer {
      cargv.forEach { free($0) }
      cenv.forEach { free($0) }
    }
    let rc = posix_spawn(&pid, path, &actions, &attr, cargv, cenv)
    if rc != 0 { throw SysError("exec", path: path, errno: rc) }
    return pid
  }
}
