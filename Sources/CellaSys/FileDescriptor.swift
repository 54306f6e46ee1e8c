import CShims
import Glibc

/// An open file descriptor that this value owns: closed exactly once, when the value goes away.
///
/// Noncopyable, so two owners of one fd cannot exist and a daemon can neither leak an fd on an early
/// `throw` nor close one twice. Code that must hand the number on (to a forked child, to `execve`,
/// into a message) calls `release()` and owns the raw value from then on.
public struct FileDescriptor: ~Copyable, Sendable {
  private let raw: Int32

  /// Takes ownership of `raw`, which must be an open fd that nothing else closes.
  public init(adopting raw: Int32) {
    precondition(raw >= 0, "FileDescriptor(adopting:) needs an open fd, not \(raw)")
    self.raw = raw
  }

  deinit { _ = Glibc.close(raw) }

  /// The fd number, for a system call made while this value is alive.
  public var rawValue: Int32 { raw }

  /// Gives up ownership without closing; the caller closes the returned fd.
  public consuming func release() -> Int32 {
    let raw = self.raw
    discard self
    return raw
  }

  /// Closes now rather than at the end of the scope.
  public consuming func close() {}
}

extension FileDescriptor {
  /// openat(2) on `path` relative to `directory` (AT_FDCWD: the working directory); always close-on-exec.
  public static func open(
    _ path: String, flags: Int32 = O_RDONLY, mode: mode_t = 0, relativeTo directory: Int32 = AT_FDCWD
  ) throws(SysError) -> FileDescriptor {
    FileDescriptor(adopting: try sys("open", path: path) { openat(directory, path, flags | O_CLOEXEC, mode) })
  }

  /// openat(2) relative to an owned directory fd.
  public static func open(
    _ path: String, flags: Int32 = O_RDONLY, mode: mode_t = 0, relativeTo directory: borrowing FileDescriptor
  ) throws(SysError) -> FileDescriptor {
    try open(path, flags: flags, mode: mode, relativeTo: directory.rawValue)
  }

  /// socket(2); always close-on-exec.
  public static func socket(domain: Int32, type: Int32, protocol: Int32 = 0) throws(SysError) -> FileDescriptor {
    FileDescriptor(
      adopting: try sys("socket") { Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), `protocol`) })
  }

  /// pidfd_open(2): an fd that names one process, immune to pid reuse (close-on-exec by the kernel).
  public static func pidfd(_ pid: pid_t) throws(SysError) -> FileDescriptor {
    FileDescriptor(adopting: try sys("pidfd_open", path: "\(pid)") { cella_pidfd_open(pid, 0) })
  }
}
