import CellaErrors

/// The one error type of CellaOCI.
///
/// `message` is a single line that names the file and the field at fault, e.g.
/// `config.json: linux.namespaces[2].type: unknown namespace "bogus"`.
public struct OCIError: KindedError, Equatable {
  public let kind: ErrorKind
  public let message: String

  /// An error about the input (`invalidArgument`) unless `kind` says otherwise.
  public init(_ message: String, kind: ErrorKind = .invalidArgument) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
  }
}
