import CShims
import CellaErrors
import Glibc

/// A failed system call: what was attempted, on which path, and the errno.
public struct SysError: KindedError {
  public let operation: String
  public let path: String?
  public let errno: Int32

  public init(_ operation: String, path: String? = nil, errno: Int32 = Glibc.errno) {
    self.operation = operation
    self.path = path
    self.errno = errno
  }

  /// The lowercase strerror text, as Go and Docker print it ("no such file or directory").
  public var reason: String { ErrorText.errno(errno) }

  /// What the errno means to a caller.
  public var kind: ErrorKind { ErrorKind.from(errno: errno) }

  public var message: String {
    if let path { return "\(operation) \(path): \(reason)" }
    return "\(operation): \(reason)"
  }

  /// The lowercase text of an errno value (`ErrorText.errno`).
  public static func describe(_ code: Int32) -> String { ErrorText.errno(code) }
}

/// Runs `body` until it does not fail with EINTR; throws `SysError` on -1.
@discardableResult
@inline(__always)
public func sys<T: BinaryInteger>(_ operation: String, path: String? = nil, _ body: () -> T) throws(SysError) -> T {
  while true {
    let r = body()
    if r != -1 { return r }
    let e = Glibc.errno
    if e == EINTR { continue }
    throw SysError(operation, path: path, errno: e)
  }
}
