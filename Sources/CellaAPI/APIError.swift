import CellaErrors

/// The error every API call can answer with: `{"error": {"kind": …, "message": …}}`.
public struct APIError: KindedError, Codable, Equatable {
  /// What went wrong, for code to decide on.
  public var kind: ErrorKind
  /// One line naming the guest, key, field or path at fault.
  public var message: String

  /// An error of `kind` with one line of text.
  public init(_ kind: ErrorKind, _ message: String) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }

  /// Any module's kinded error, as the API reports it.
  public init(_ error: any KindedError) {
    self.init(error.kind, error.message)
  }
}

/// The body of an error answer.
public struct ErrorEnvelope: Codable, Equatable, Sendable {
  /// The error itself.
  public var error: APIError
  /// Wraps `error`.
  public init(error: APIError) { self.error = error }
}

extension ErrorKind {
  /// The HTTP status the API answers this kind with (the one table of it).
  public var httpStatus: Int {
    switch self {
    case .invalidArgument: return 400
    case .permission: return 403
    case .notFound: return 404
    case .alreadyExists, .invalidState: return 409
    case .executableNotFound, .executableNotRunnable: return 422
    case .unsupported: return 501
    case .system, .internal: return 500
    }
  }
}
