import CellaErrors

/// The one error type of CellaHost: a kind and one line naming the guest, image, key or path at fault.
public struct HostError: KindedError, Equatable {
  public let kind: ErrorKind
  public let message: String

  /// An error of `kind`; the text is folded to one line.
  public init(_ kind: ErrorKind, _ message: String) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }

  /// A failed system call on `path` during `step`, its kind taken from the errno.
  public init(_ step: String, path: String, errno code: Int32) {
    self.init(ErrorKind.from(errno: code), "\(step) \(path): \(ErrorText.errno(code))")
  }

  /// Any other module's kinded error, keeping its kind, with `context` in front.
  public init(_ context: String, _ error: any KindedError) {
    self.init(error.kind, context.isEmpty ? error.message : "\(context): \(error.message)")
  }
}
