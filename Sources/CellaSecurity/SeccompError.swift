import CellaOCI

/// A seccomp configuration or load failure, as one line naming the config field.
public struct SeccompError: Error, CustomStringConvertible, Sendable {
  public let message: String

  /// Wraps an already formatted message.
  public init(_ message: String) { self.message = OCIError.oneLine(message) }

  /// `<field>: <problem>`, the shape every config error uses.
  init(field: String, _ problem: String) { self.init("\(field): \(problem)") }

  public var description: String { message }
}
