import Glibc

/// What went wrong, in terms a caller can act on without reading the message.
///
/// Every module's error type carries one; the CLIs map kinds to exit codes and the daemon's API
/// maps them to HTTP statuses. The raw values are the wire names (`--log-format json`, the API).
public enum ErrorKind: String, Sendable, CaseIterable, Codable {
  /// Bad input: a config field, a flag, a request, a file's content.
  case invalidArgument = "invalid-argument"
  /// The thing named does not exist (a container, a file the input names).
  case notFound = "not-found"
  /// Something with that name exists already.
  case alreadyExists = "already-exists"
  /// The operation does not fit the current state (start a running container, delete a running one).
  case invalidState = "invalid-state"
  /// Not allowed: the caller lacks a privilege, or the kernel refused on permission grounds.
  case permission
  /// This host or this build cannot do it (a missing controller, an option cella refuses).
  case unsupported
  /// The container's process could not be started: its executable is missing.
  case executableNotFound = "executable-not-found"
  /// The container's process could not be started: its executable may not be run.
  case executableNotRunnable = "executable-not-runnable"
  /// A system call failed for a reason none of the above names (the message carries the errno text).
  case system
  /// A broken promise inside cella itself.
  case `internal`

  /// The kind an errno most plausibly means when nothing more specific is known.
  public static func from(errno code: Int32) -> ErrorKind {
    switch code {
    case ENOENT, ESRCH, ENODEV, ENXIO: return .notFound
    case EEXIST: return .alreadyExists
    case EPERM, EACCES: return .permission
    case EINVAL, ERANGE, ENAMETOOLONG, ELOOP, ENOTDIR, EISDIR: return .invalidArgument
    case EBUSY: return .invalidState
    case ENOSYS, EOPNOTSUPP: return .unsupported
    default: return .system
    }
  }
}

/// An error of one of cella's modules: a kind and one line of text.
public protocol KindedError: Error, Sendable, CustomStringConvertible {
  /// What went wrong, for code to decide on.
  var kind: ErrorKind { get }
  /// One line naming the field or path at fault and what to do, for people.
  var message: String { get }
}

extension KindedError {
  public var description: String { message }
}
