import CellaOCI
import CellaSys

/// The one error type of the runtime: a single line saying what failed, where, and what to do.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
  public let message: String
  /// Exit code the CLI should use (1 unless a command asks for more, e.g. 127 for a missing executable).
  public let exitCode: Int32

  public init(_ message: String, exitCode: Int32 = 1) {
    self.message = OCIError.oneLine(message)
    self.exitCode = exitCode
  }

  /// Wraps a failed system call with the step it belonged to.
  public init(_ step: String, _ error: SysError) {
    self.init("\(step): \(error.description)")
  }

  public var description: String { message }
}

extension RuntimeError {
  init(_ error: OCIError) { self.init(error.message) }

  /// Runs `body`, naming `step` in any error it throws.
  @discardableResult
  public static func wrap<T>(_ step: String, _ body: () throws -> T) throws(RuntimeError) -> T {
    do { return try body() } catch let error as SysError { throw RuntimeError(step, error) } catch let error
      as RuntimeError
    { throw error } catch { throw RuntimeError("\(step): \(error)") }
  }
}
