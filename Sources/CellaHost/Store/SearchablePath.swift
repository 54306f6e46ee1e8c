import Glibc

/// Whether other users may reach a path: dnsmasq (dropped to its own user) and a `security.userns`
/// guest's root (a host uid of its own) both need every directory above their files searchable.
enum SearchablePath {
  /// The first directory above `path` that others may not search, with its mode; nil when all may.
  static func firstClosed(above path: String) throws(HostError) -> (path: String, mode: mode_t)? {
    var dir = path
    while let slash = dir.lastIndex(of: "/"), dir != "/" {
      dir = slash == dir.startIndex ? "/" : String(dir[..<slash])
      var st = stat()
      if stat(dir, &st) != 0 { throw HostError("stat", path: dir, errno: errno) }
      if st.st_mode & 0o001 == 0 { return (dir, st.st_mode & 0o7777) }
    }
    return nil
  }
}
