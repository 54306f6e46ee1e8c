#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Small file helpers on libc, so that CellaOCI needs no Foundation.
public enum HostFiles {
  /// True when `path` exists (following symlinks), as stat(2) sees it.
  @Sendable public static func exists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
  }

  /// Reads a whole file. Throws with errno's text on failure.
  public static func readAll(_ path: String) throws(HostFileError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw HostFileError(errno: errno) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw HostFileError(errno: errno)
      }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<n])
    }
    return out
  }

  /// `path` if absolute, else `base/path`.
  public static func resolve(_ path: String, against base: String) -> String {
    if path.hasPrefix("/") { return path }
    if base.isEmpty { return path }
    return base.hasSuffix("/") ? base + path : base + "/" + path
  }
}

/// A libc failure, with the errno and its strerror text.
public struct HostFileError: Error, Sendable {
  public let errno: Int32
  public var text: String { String(cString: strerror(errno)) }

  public init(errno: Int32) {
    self.errno = errno
  }

  public var isNotFound: Bool { errno == ENOENT || errno == ENOTDIR }
}
