import CShims
import CellaErrors
import CellaSys
import Glibc

/// A process started in the guest like a container's: its own session, the given uid/gid (no supplementary
/// groups), environment and working directory; a name without `/` is looked up in the PATH of its environment.
enum GuestProcess {
  static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

  /// Why the process could not start, with the status a shell would report (127 not found, 126 otherwise).
  struct StartError: Error {
    let status: Int32
    let message: String
  }

  /// Starts the process; with `terminal` its stdin becomes its controlling terminal (best effort: a console
  /// that refuses only costs job control). Returns its pid once
  /// it has exec'd, or throws why it could not.
  static func spawn(
    argv: [String], env: [String], cwd: String, uid: UInt32, gid: UInt32, stdio: (Int32, Int32, Int32),
    terminal: Bool
  ) throws(StartError) -> pid_t {
    let candidates = executableCandidates(argv[0], env: env)
    var report: [Int32] = [-1, -1]
    guard cella_pipe2(&report, O_CLOEXEC) == 0 else {
      throw StartError(status: 126, message: "pipe: \(ErrorText.errno(errno))")
    }
    let cArgv = cStrings(argv)
    let cEnv = cStrings(env)
    let cPaths = candidates.map { strdup($0)! }
    defer {
      for p in cArgv where p != nil { free(p) }
      for p in cEnv where p != nil { free(p) }
      for p in cPaths { free(p) }
    }
    let pid = fork()
    if pid < 0 {
      close(report[0])
      close(report[1])
      throw StartError(status: 126, message: "fork: \(ErrorText.errno(errno))")
    }
    if pid == 0 {
      close(report[0])
      func die(_ step: Int32) -> Never {
        var word: (Int32, Int32) = (step, errno)
        _ = withUnsafeBytes(of: &word) { write(report[1], $0.baseAddress, $0.count) }
        _exit(127)
      }
      var mask = sigset_t()
      cella_sigset_empty(&mask)
      sigprocmask(SIG_SETMASK, &mask, nil)
      for sig: Int32 in 1..<32 where sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
      if setsid() < 0 { die(1) }
      let (i, o, e) = stdio
      // Move the fds above 2 first so that dup2 never overwrites one still needed.
      let fds = [fcntl(i, F_DUPFD_CLOEXEC, 3), fcntl(o, F_DUPFD_CLOEXEC, 3), fcntl(e, F_DUPFD_CLOEXEC, 3)]
      for (target, fd) in fds.enumerated() where dup2(fd, Int32(target)) < 0 { die(2) }
      if terminal { _ = cella_set_ctty(0) }
      if cella_setresgid(gid, gid, gid) != 0 { die(4) }
      if setgroups(0, nil) != 0 { die(4) }
      if cella_setresuid(uid, uid, uid) != 0 { die(4) }
      if chdir(cwd) != 0 { die(5) }
      var lastErrno = ENOENT
      for path in cPaths {
        execve(path, cArgv, cEnv)
        // Keep the most telling error: a found but unrunnable file beats "not found" in a later directory.
        if errno != ENOENT || lastErrno == ENOENT { lastErrno = errno }
      }
      errno = lastErrno
      die(6)
    }
    close(report[1])
    var word: (Int32, Int32) = (0, 0)
    let n = withUnsafeMutableBytes(of: &word) { buf in
      var r: Int
      repeat { r = read(report[0], buf.baseAddress, buf.count) } while r < 0 && errno == EINTR
      return r
    }
    close(report[0])
    if n <= 0 { return pid }
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
    let (step, code) = word
    let what: String
    switch step {
    case 1, 2: what = "setting up its stdio"
    case 4: what = "switching to user \(uid):\(gid)"
    case 5: what = "chdir \(cwd)"
    default: what = "exec \(argv[0])"
    }
    let notFound = step == 6 && code == ENOENT
    throw StartError(
      status: notFound ? 127 : 126,
      message: notFound ? "\(argv[0]): executable file not found in PATH" : "\(what): \(ErrorText.errno(code))")
  }

  /// The paths execve tries: the name itself when it has a `/`, else each PATH directory.
  static func executableCandidates(_ name: String, env: [String]) -> [String] {
    if name.contains("/") { return [name] }
    let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
    return path.split(separator: ":", omittingEmptySubsequences: false).map {
      ($0.isEmpty ? "." : String($0)) + "/" + name
    }
  }

  private static func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { strdup($0) } + [nil]
  }
}
