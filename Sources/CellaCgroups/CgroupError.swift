import CellaErrors
import CellaSys
import Glibc

/// A cgroup failure: the spec field (or operation) and the file involved, with what the user can do.
public struct CgroupError: KindedError {
  public var kind: ErrorKind
  /// "field: what failed on which file (hint)".
  public var message: String

  /// An error with a complete message; a problem of the input unless `kind` says otherwise.
  public init(_ message: String, kind: ErrorKind = .invalidArgument) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }

  /// An error for a failed system call made on behalf of `field`, with a hint derived from the errno.
  static func sys(_ field: String, _ error: SysError, value: String? = nil, busyHint: String? = nil) -> CgroupError {
    var text = "\(field): \(error.description)"
    switch error.errno {
    case ENOENT where error.operation == "open":
      text += " (the kernel does not offer this file: the controller is not enabled or the feature is missing)"
    case EBUSY:
      if let busyHint { text += " (\(busyHint))" }
    case EINVAL:
      if let value { text += " (the kernel rejected \"\(value)\")" }
    case EACCES, EPERM:
      text += " (permission denied: run as root with a writable cgroup hierarchy)"
    default:
      break
    }
    return CgroupError(text, kind: error.kind)
  }
}
