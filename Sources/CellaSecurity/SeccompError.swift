import CellaErrors

/// A seccomp configuration or load failure, as one line naming the config field.
public struct SeccompError: KindedError {
  public let kind: ErrorKind
  public let message: String

  /// Wraps an already formatted message; a config problem unless `kind` says otherwise.
  public init(_ message: String, kind: ErrorKind = .invalidArgument) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }

  /// `<field>: <problem>`, the shape every config error uses.
  init(field: String, _ problem: String) { self.init("\(field): \(problem)") }
}
