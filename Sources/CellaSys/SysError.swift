import CShims
import Glibc

/// A failed system call: what was attempted, on which path, and the errno.
public struct SysError: Error, CustomStringConvertible, Sendable {
  public let operation: String
  public let path: String?
  public let errno: Int32

  public init(_ operation: String, path: String? = nil, errno: Int32 = Glibc.errno) {
    self.operation = operation
    self.path = path
    self.errno = errno
  }

  /// The lowercase strerror text, as Go and Docker print it ("no such file or directory").
  public var reason: String { SysError.describe(errno) }

  public var description: String {
    if let path { return "\(operation) \(path): \(reason)" }
    return "\(operation): \(reason)"
  }

  /// The lowercase text of an errno value.
  public static func describe(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    let s = String(cString: text)
    guard let first = s.first else { return s }
    return first.lowercased() + s.dropFirst()
  }
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
