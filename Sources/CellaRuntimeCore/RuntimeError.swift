import CellaErrors
import CellaOCI
import CellaSys

/// The one error type of the runtime: a kind for code, and a single line saying what failed, where,
/// and what to do, for people.
public struct RuntimeError: KindedError {
  public let kind: ErrorKind
  public let message: String
  /// Exit code the CLI should use (1 unless a command asks for more, e.g. 127 for a missing executable).
  public let exitCode: Int32

  public init(_ message: String, kind: ErrorKind = .system, exitCode: Int32 = 1) {
    self.kind = kind
    self.message = ErrorText.oneLine(message)
    self.exitCode = exitCode
  }

  /// Wraps a failed system call with the step it belonged to; the kind follows the errno.
  public init(_ step: String, _ error: SysError) {
    self.init("\(step): \(error.description)", kind: error.kind)
  }

  /// Another module's error, keeping its kind.
  public init(_ error: some KindedError) {
    self.init(error.message, kind: error.kind)
  }
}

extension RuntimeError {
  /// Runs `body`, naming `step` in any error it throws.
  @discardableResult
  public static func wrap<T>(_ step: String, _ body: () throws -> T) throws(RuntimeError) -> T {
    do { return try body() } catch let error as SysError { throw RuntimeError(step, error) } catch let error
      as RuntimeError
    { throw error } catch let error as any KindedError {
      throw RuntimeError("\(step): \(error.message)", kind: error.kind)
    } catch { throw RuntimeError("\(step): \(error)") }
  }
}
