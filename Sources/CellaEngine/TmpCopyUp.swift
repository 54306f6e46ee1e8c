import CellaRuntimeCore
import CellaSys
import Glibc

/// `tmpcopyup`: the new tmpfs starts with what the rootfs had at its destination.
///
/// Everything is opened relative to directory fds with O_NOFOLLOW and symlinks are copied as
/// symlinks, so nothing in the image can lead the copy outside the directory it started from.
extension Rootfs {
  /// A readable fd of the directory `fd` (an O_PATH fd) refers to.
  func openDirectory(_ fd: Int32, step: String) throws(RuntimeError) -> Int32 {
    let dir = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dir < 0 { throw RuntimeError("\(step): \(SysError.describe(errno))") }
    return dir
  }

  /// Copies the tree of `lower` into the mount now at `destination`.
  func copyUp(from lower: Int32, to destination: String) throws(RuntimeError) {
    let top = try RuntimeError.wrap("tmpcopyup: open \(destination)") {
      try InRoot.open(root: rootFD, destination, flags: O_RDONLY | O_DIRECTORY)
    }
    defer { close(top) }
    try copyEntries(from: lower, to: top, path: destination)
  }

  private func copyEntries(from src: Int32, to dst: Int32, path: String) throws(RuntimeError) {
    let listFD = dup(src)
    guard listFD >= 0, let dir = fdopendir(listFD) else {
      if listFD >= 0 { close(listFD) }
      throw RuntimeError("tmpcopyup: list \(path): \(SysError.describe(errno))")
    }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name == "." || name == ".." { continue }
      try copyEntry(name, from: src, to: dst, path: path + "/" + name)
    }
  }

  private func copyEntry(_ name: String, from src: Int32, to dst: Int32, path: String) throws(RuntimeError) {
    func fail(_ what: String) -> RuntimeError {
      RuntimeError("tmpcopyup: \(what) \(path): \(SysError.describe(errno))")
    }
    var st = stat()
    if fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("stat") }
    let mode = st.st_mode & 0o7777
    switch st.st_mode & S_IFMT {
    case S_IFDIR:
      if mkdirat(dst, name, 0o700) != 0 { throw fail("mkdir") }
      let from = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if from < 0 { throw fail("open") }
      defer { close(from) }
      let to = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if to < 0 { throw fail("open copy of") }
      defer { close(to) }
      try copyEntries(from: from, to: to, path: path)
      if fchown(to, st.st_uid, st.st_gid) != 0 || fchmod(to, mode) != 0 { throw fail("set owner and mode of") }
    case S_IFREG:
      let from = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
      if from < 0 { throw fail("open") }
      defer { close(from) }
      let to = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
      if to < 0 { throw fail("create") }
      defer { close(to) }
      var buffer = [UInt8](repeating: 0, count: 64 << 10)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw fail("read") }
        if n == 0 { break }
        do { try FileIO.writeAll(fd: to, Array(buffer[0..<n]), path: path) } catch {
          throw RuntimeError("tmpcopyup: write \(path): \(error.reason)")
        }
      }
      if fchown(to, st.st_uid, st.st_gid) != 0 || fchmod(to, mode) != 0 { throw fail("set owner and mode of") }
    case S_IFLNK:
      guard let target = InRoot.readLink(dirfd: src, name) else { throw fail("readlink") }
      if symlinkat(target, dst, name) != 0 { throw fail("symlink") }
      if fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("set owner of") }
    default:
      // Device nodes, fifos and sockets are recreated; in a user namespace the kernel refuses device nodes.
      if mknodat(dst, name, st.st_mode, st.st_rdev) != 0 { throw fail("mknod") }
      if fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("set owner of") }
    }
  }
}
