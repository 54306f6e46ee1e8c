import CellaSys
import Glibc

/// Whole-tree operations on directory fds that never follow a symlink and never leave the file
/// system they start on (an image tree may hold any link, and a half-done build a mount).
enum TreeOps {
  /// How deep removal descends before it moves a directory up to the tree's top: a guest can nest
  /// directories deeper than PATH_MAX or the fd limit, and each level holds an fd.
  static let maxRemovalDepth = 64

  /// Removes `name` in `dirfd` and everything under it; a missing name is not an error.
  static func remove(_ name: String, in dirfd: Int32, path: String) throws(HostError) {
    try remove(name, in: dirfd, path: path, depth: 0, top: -1)
  }

  private static func remove(_ name: String, in dirfd: Int32, path: String, depth: Int, top: Int32)
    throws(HostError)
  {
    var st = stat()
    if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
      if errno == ENOENT { return }
      throw HostError("stat", path: path, errno: errno)
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      if depth >= maxRemovalDepth && top >= 0 {
        // Too deep: move it up to the top of the tree, which removes it in a later round.
        let hoisted = ".hoisted-\(st.st_ino)"
        if renameat(dirfd, name, top, hoisted) != 0 { throw HostError("rename", path: path, errno: errno) }
        return
      }
      let fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if fd < 0 { throw HostError("open", path: path, errno: errno) }
      defer { close(fd) }
      var inner = stat()
      fstat(fd, &inner)
      var parent = stat()
      fstat(dirfd, &parent)
      if inner.st_dev != parent.st_dev {
        throw HostError(.invalidState, "remove \(path): a file system is mounted there; unmount it first")
      }
      // The top of the tree takes hoisted directories, so it is read again until it stays empty.
      while true {
        let names: [String]
        do { names = try entries(fd) } catch { throw HostError("read", path: path, errno: errno) }
        if names.isEmpty { break }
        for child in names {
          try remove(child, in: fd, path: path + "/" + child, depth: depth + 1, top: top >= 0 ? top : fd)
        }
        if top >= 0 { break }
      }
      if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
        throw HostError("rmdir", path: path, errno: errno)
      }
    } else if unlinkat(dirfd, name, 0) != 0 && errno != ENOENT {
      throw HostError("unlink", path: path, errno: errno)
    }
  }

  /// Removes a tree given by path (its last component is not followed if it is a symlink).
  static func remove(path: String) throws(HostError) {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let fd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return }
      throw HostError("open", path: dir, errno: errno)
    }
    defer { close(fd) }
    try remove(name, in: fd, path: path)
  }

  /// The names in an open directory (the fd stays open and is rewound).
  static func entries(_ fd: Int32) throws(HostError) -> [String] {
    let copy = dup(fd)
    guard copy >= 0, let dir = fdopendir(copy) else {
      throw HostError("opendir", path: "", errno: errno)
    }
    defer { closedir(dir) }
    rewinddir(dir)
    var names: [String] = []
    while let ent = readdir(dir) {
      let name = withUnsafePointer(to: ent.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Bytes on disk under `path` (blocks allocated), each hard-linked inode counted once.
  static func diskUsage(_ path: String) -> UInt64 {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 { return 0 }
    defer { close(fd) }
    var seen = Set<UInt64>()
    var st = stat()
    fstat(fd, &st)
    return UInt64(st.st_blocks) * 512 + usage(fd, &seen)
  }

  private static func usage(_ fd: Int32, _ seen: inout Set<UInt64>) -> UInt64 {
    var total: UInt64 = 0
    for name in (try? entries(fd)) ?? [] {
      var st = stat()
      if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { continue }
      if st.st_nlink > 1 && (st.st_mode & S_IFMT) != S_IFDIR {
        if !seen.insert(UInt64(st.st_ino)).inserted { continue }
      }
      total += UInt64(st.st_blocks) * 512
      if (st.st_mode & S_IFMT) == S_IFDIR {
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child >= 0 {
          total += usage(child, &seen)
          close(child)
        }
      }
    }
    return total
  }
}
