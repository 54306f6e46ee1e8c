import CellaErrors

/// Why the daemon could not start or serve: one line naming the socket or the request part at fault.
public struct DaemonError: KindedError {
  public let kind: ErrorKind
  public let message: String
  /// An HTTP status other than the kind's own (405 for a wrong method).
  let status: Int?

  /// An error of `kind` with one line of text.
  public init(_ kind: ErrorKind, _ message: String) {
    self.init(kind, message, status: nil)
  }

  init(_ kind: ErrorKind, _ message: String, status: Int?) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
    self.status = status
  }
}
