import CShims
import Glibc

/// Small whole-file helpers over raw fds; no Foundation on the create path.
public enum FileIO {
  /// Reads a whole file (or up to `limit` bytes).
  public static func read(_ path: String, dirfd: Int32 = AT_FDCWD, limit: Int = 16 << 20) throws(SysError) -> [UInt8] {
    let fd = try FileDescriptor.open(path, relativeTo: dirfd)
    return try readAll(fd: fd.rawValue, limit: limit, path: path)
  }

  /// Reads a whole file as UTF-8 text.
  public static func readString(_ path: String, dirfd: Int32 = AT_FDCWD) throws(SysError) -> String {
    String(decoding: try read(path, dirfd: dirfd), as: UTF8.self)
  }

  /// Reads everything from an fd until EOF.
  public static func readAll(fd: Int32, limit: Int = 16 << 20, path: String? = nil) throws(SysError) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 8192)
    while out.count < limit {
      let n = try sys("read", path: path) { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<n])
    }
    return out
  }

  /// Writes all bytes to an fd.
  public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String? = nil) throws(SysError) {
    var off = 0
    while off < bytes.count {
      let n = try sys("write", path: path) {
        bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
      }
      off += n
    }
  }

  /// Writes a file in place (for /proc and /sys knobs).
  public static func write(_ path: String, _ text: String, dirfd: Int32 = AT_FDCWD) throws(SysError) {
    let fd = try FileDescriptor.open(path, flags: O_WRONLY, relativeTo: dirfd)
    try writeAll(fd: fd.rawValue, Array(text.utf8), path: path)
  }

  /// `writeAtomically` of the file at `path` (its directory is the part before the last slash).
  public static func writeAtomically(
    path: String, _ bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true
  ) throws(SysError) {
    guard let slash = path.lastIndex(of: "/") else {
      return try writeAtomically(directory: ".", name: path, bytes, mode: mode, durable: durable)
    }
    try writeAtomically(
      directory: slash == path.startIndex ? "/" : String(path[..<slash]),
      name: String(path[path.index(after: slash)...]),
      bytes, mode: mode, durable: durable)
  }

  /// Writes a file atomically: temp file, rename, and with `durable` an fsync of both, so the file
  /// survives a power loss too. A reader never sees half a file either way; `durable` only matters
  /// for what outlives a reboot (state about processes and cgroups does not).
  public static func writeAtomically(
    directory: String, name: String, _ bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true
  ) throws(SysError) {
    let tmp = "\(directory)/.\(name).tmp\(getpid())"
    let fd = try FileDescriptor.open(tmp, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
    do {
      try writeAll(fd: fd.rawValue, bytes, path: tmp)
      if durable { _ = fsync(fd.rawValue) }
      fd.close()
      try sys("rename", path: tmp) { rename(tmp, "\(directory)/\(name)") }
    } catch {
      unlink(tmp)
      throw error
    }
    if durable, let dir = try? FileDescriptor.open(directory, flags: O_DIRECTORY) { _ = fsync(dir.rawValue) }
  }

  /// Whether a path exists (lstat succeeds).
  public static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  /// Whether a path exists after following symlinks (stat succeeds), as a bind mount source must.
  @Sendable public static func existsFollowingLinks(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
  }

  /// Whether `path` is a directory (not a symlink to one).
  public static func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
  }

  /// Removes a directory tree without following symlinks; missing paths are not an error.
  public static func removeTree(_ path: String) throws(SysError) {
    var st = stat()
    if lstat(path, &st) != 0 {
      if errno == ENOENT { return }
      throw SysError("lstat", path: path)
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      for name in try listDirectory(path) { try removeTree("\(path)/\(name)") }
      if rmdir(path) != 0 && errno != ENOENT { throw SysError("rmdir", path: path) }
    } else if unlink(path) != 0 && errno != ENOENT {
      throw SysError("unlink", path: path)
    }
  }

  /// Names in a directory, without "." and "..".
  public static func listDirectory(_ path: String) throws(SysError) -> [String] {
    guard let dir = opendir(path) else { throw SysError("opendir", path: path) }
    defer { closedir(dir) }
    var names: [String] = []
    while let ent = readdir(dir) {
      let name = withUnsafePointer(to: ent.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }
}
