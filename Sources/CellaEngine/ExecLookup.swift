import CellaErrors
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

/// Finds the executable of process.args[0] the way execvp does, with the messages Docker keys on.
enum ExecLookup {
  /// Resolves `command` against PATH from `env`; throws "executable file not found", "no such file or
  /// directory" or "permission denied" (exit codes 127 and 126).
  static func resolve(_ command: String, env: [String]) throws(RuntimeError) -> String {
    if command.contains("/") {
      try check(command)
      return command
    }
    let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? DefaultSpec.searchPath
    var denied = false
    for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
      let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + command
      var st = stat()
      guard stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
      if st.st_mode & 0o111 != 0 { return candidate }
      denied = true
    }
    if denied { throw RuntimeError("exec: \"\(command)\": permission denied", kind: .executableNotRunnable) }
    throw RuntimeError("exec: \"\(command)\": executable file not found in $PATH", kind: .executableNotFound)
  }

  private static func check(_ path: String) throws(RuntimeError) {
    var st = stat()
    if stat(path, &st) != 0 {
      let e = errno
      throw RuntimeError("exec \(path): \(SysError.describe(e))", kind: executableKind(errno: e))
    }
    if st.st_mode & S_IFMT != S_IFREG || st.st_mode & 0o111 == 0 {
      throw RuntimeError("exec \(path): permission denied", kind: .executableNotRunnable)
    }
  }

  /// Why an executable could not be run, from the errno of stat or execve.
  static func executableKind(errno e: Int32) -> ErrorKind {
    e == ENOENT || e == ENOTDIR ? .executableNotFound : .executableNotRunnable
  }
}
