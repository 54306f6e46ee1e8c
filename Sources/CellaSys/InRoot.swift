import CShims
import Glibc

/// Path resolution inside a hostile root filesystem (DESIGN.md decision 3).
///
/// Every lookup goes through openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so a symlink in the
/// image resolves as if the rootfs were `/`, and never to the host. Callers act on the returned
/// O_PATH descriptors, through `/proc/self/fd/N` where the kernel needs a path (mount).
public enum InRoot {
  static let resolveFlags: UInt64 = 0x10 | 0x02  // RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS

  /// Opens `path` relative to the root fd, never escaping it.
  public static func open(root: Int32, _ path: String, flags: Int32 = O_PATH, mode: mode_t = 0) throws(SysError)
    -> Int32
  {
    try sys("open", path: path) {
      cella_openat2(root, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode), resolveFlags)
    }
  }

  /// The path the kernel follows to reach an fd (for mount(2) targets).
  public static func procPath(_ fd: Int32) -> String { "/proc/self/fd/\(fd)" }

  /// Splits a path into clean components, resolving "." and ".." lexically and clamping at the root.
  public static func components(_ path: String) -> [String] {
    var out: [String] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." {
        if !out.isEmpty { out.removeLast() }
        continue
      }
      out.append(String(part))
    }
    return out
  }

  /// Creates every missing directory of `path` inside the root and returns an O_PATH fd of it.
  ///
  /// A dangling symlink on the way is followed inside the root (its target is created there).
  public static func mkdirAll(root: Int32, _ path: String, mode: mode_t = 0o755) throws(SysError) -> Int32 {
    try mkdirAllOwned(root: root, path, mode: mode).release()
  }

  private static func mkdirAllOwned(root: Int32, _ path: String, mode: mode_t) throws(SysError) -> FileDescriptor {
    var parts = components(path)
    var hops = 0
    restart: while true {
      if let fd = try? open(root: root, "/" + parts.joined(separator: "/"), flags: O_PATH | O_DIRECTORY) {
        return FileDescriptor(adopting: fd)
      }
      var parent = FileDescriptor(adopting: try open(root: root, "/", flags: O_PATH | O_DIRECTORY))
      var index = 0
      while index < parts.count {
        let prefix = "/" + parts[0...index].joined(separator: "/")
        let name = parts[index]
        let fd = cella_openat2(root, prefix, UInt64(UInt32(bitPattern: O_PATH | O_CLOEXEC)), 0, resolveFlags)
        if fd >= 0 {
          parent = FileDescriptor(adopting: fd)
          index += 1
          continue
        }
        let err = errno
        guard err == ENOENT else { throw SysError("open", path: prefix, errno: err) }
        if mkdirat(parent.rawValue, name, mode) == 0 || errno == EEXIST {
          if errno == EEXIST, let target = readLink(dirfd: parent.rawValue, name) {
            // A dangling symlink: continue at its target, still inside the root.
            hops += 1
            if hops > 40 { throw SysError("resolve", path: path, errno: ELOOP) }
            let rest = Array(parts[(index + 1)...])
            let base = target.hasPrefix("/") ? [] : Array(parts[0..<index])
            parts = components((base + [target] + rest).joined(separator: "/"))
            continue restart
          }
          continue  // reopen through openat2 on the next pass
        }
        throw SysError("mkdir", path: prefix)
      }
      return parent
    }
  }

  /// Ensures a regular file exists at `path` inside the root (creating parents) and returns an O_PATH fd.
  public static func ensureFile(root: Int32, _ path: String, mode: mode_t = 0o644) throws(SysError) -> Int32 {
    if let fd = try? open(root: root, path, flags: O_PATH) { return fd }
    let parts = components(path)
    guard let name = parts.last else { return try open(root: root, "/", flags: O_PATH) }
    let parent = try mkdirAllOwned(root: root, "/" + parts.dropLast().joined(separator: "/"), mode: 0o755)
    do {
      _ = try FileDescriptor.open(
        name, flags: O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode: mode, relativeTo: parent)
    } catch  where error.errno == EEXIST {
    } catch {
      throw SysError("create", path: path, errno: error.errno)
    }
    return try open(root: root, path, flags: O_PATH)
  }

  /// readlinkat, or nil when the entry is not a symlink.
  public static func readLink(dirfd: Int32, _ name: String) -> String? {
    var buf = [CChar](repeating: 0, count: 4097)
    let n = readlinkat(dirfd, name, &buf, 4096)
    if n < 0 { return nil }
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The file type bits (S_IFDIR, S_IFREG, ...) of an fd.
  public static func fileType(_ fd: Int32) -> mode_t {
    var st = stat()
    if fstat(fd, &st) != 0 { return 0 }
    return st.st_mode & S_IFMT
  }
}
