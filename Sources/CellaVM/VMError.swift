import CellaErrors

/// CellaVM's one error: a kind and one line naming the field, file or QMP command at fault.
public struct VMError: KindedError, Equatable {
  public let kind: ErrorKind
  public let message: String

  /// An error of `kind`; the text is folded to one line.
  public init(_ kind: ErrorKind, _ message: String) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }

  /// A failed system call during `step`, its kind taken from the errno.
  public init(_ step: String, errno code: Int32) {
    self.init(ErrorKind.from(errno: code), "\(step): \(ErrorText.errno(code))")
  }
}
