import CellaErrors
import CellaSys
import Glibc

/// Applies tar layers to an image's root filesystem as a hostile archive demands (DESIGN.md decision 3).
///
/// Every write is relative to a directory fd reached from the root by a walk that opens each
/// component with O_NOFOLLOW: nothing is ever written through a symlink, so no entry can reach the
/// host. Absolute names are taken relative to the root; a `..` component is refused. Hard links must
/// name a file already in the tree. Device nodes are skipped with a warning (a guest's /dev is made
/// by the runtime). Setuid and setgid bits are dropped from files whose archive owner is not root, so an
/// image cannot plant a setuid binary of some other user. Owners are kept as in the archive.
final class RootfsWriter {
  /// The deepest path accepted.
  static let maxDepth = 256

  private let root: Int32
  private var written = Set<String>()
  private var skippedDevices: [String] = []

  /// Lines about what was skipped: one for all device nodes (a debootstrap tree has dozens).
  var warnings: [String] {
    guard !skippedDevices.isEmpty else { return [] }
    let shown = skippedDevices.prefix(5).map(quote).joined(separator: ", ")
    let more = skippedDevices.count > 5 ? ", …" : ""
    let n = skippedDevices.count
    return ["skipped \(n) device node\(n == 1 ? "" : "s") (the runtime makes /dev): \(shown)\(more)"]
  }

  init(rootfs: String) throws(HostError) {
    root = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if root < 0 { throw HostError("open", path: rootfs, errno: errno) }
  }

  deinit { close(root) }

  /// Starts a new layer: whiteouts and opaque directories hide only what earlier layers wrote.
  func beginLayer() { written = [] }

  /// Writes one entry, reading a regular file's data from `data`.
  func apply(_ entry: TarEntry, data: TarReader) throws(HostError) {
    let comps = try clean(entry.path, entry: entry.path)
    guard let name = comps.last else { return }  // the root itself keeps the store's owner and mode
    let parentComps = comps.dropLast()
    if name.hasPrefix(".wh.") { return try whiteout(name, parentComps, entry: entry.path) }
    if entry.kind == .charDevice || entry.kind == .blockDevice {
      skippedDevices.append(entry.path)
      return
    }
    guard let parent = try openDir(parentComps, create: true, entry: entry.path) else { return }
    defer { close(parent) }
    switch entry.kind {
    case .directory:
      var st = stat()
      let exists = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0
      if !exists || (st.st_mode & S_IFMT) != S_IFDIR {
        if exists { try TreeOps.remove(name, in: parent, path: entry.path) }
        if mkdirat(parent, name, 0o700) != 0 { throw fail("mkdir", entry.path) }
      }
      let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if fd < 0 { throw fail("open", entry.path) }
      defer { close(fd) }
      if fchown(fd, entry.uid, entry.gid) != 0 { throw fail("chown", entry.path) }
      if fchmod(fd, mode_t(entry.mode & 0o7777)) != 0 { throw fail("chmod", entry.path) }
    case .file:
      try replace(name, in: parent, entry: entry.path)
      let fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
      if fd < 0 { throw fail("create", entry.path) }
      defer { close(fd) }
      try copyData(data, to: fd, entry: entry.path)
      if fchown(fd, entry.uid, entry.gid) != 0 { throw fail("chown", entry.path) }
      if fchmod(fd, mode_t(safeMode(entry))) != 0 { throw fail("chmod", entry.path) }
      var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
      _ = futimens(fd, &times)
    case .symlink:
      guard !entry.linkName.isEmpty, !entry.linkName.utf8.contains(0) else {
        throw HostError(.invalidArgument, "entry \(quote(entry.path)): symlink with an empty target")
      }
      try replace(name, in: parent, entry: entry.path)
      if symlinkat(entry.linkName, parent, name) != 0 { throw fail("symlink", entry.path) }
      if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("chown", entry.path) }
      var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0)]
      _ = utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
    case .hardlink:
      try link(entry, name: name, comps: comps, parent: parent)
    case .fifo:
      try replace(name, in: parent, entry: entry.path)
      if mknodat(parent, name, S_IFIFO | mode_t(safeMode(entry)), 0) != 0 { throw fail("mkfifo", entry.path) }
      if fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 { throw fail("chown", entry.path) }
    case .charDevice, .blockDevice:
      return
    }
    var key = ""
    for c in comps {
      key = key.isEmpty ? c : key + "/" + c
      written.insert(key)
    }
  }

  /// A file's mode as written: setuid and setgid only on files root owns in the archive.
  private func safeMode(_ entry: TarEntry) -> UInt32 {
    entry.uid == 0 ? entry.mode & 0o7777 : entry.mode & 0o1777
  }

  private func link(_ entry: TarEntry, name: String, comps: [String], parent: Int32) throws(HostError) {
    let target = try clean(entry.linkName, entry: entry.path)
    let notInImage = HostError(
      .invalidArgument,
      "entry \(quote(entry.path)): hard link target \(quote(entry.linkName)) is not a file in the image")
    guard let targetName = target.last else { throw notInImage }
    if target == comps { return }
    guard let targetDir = try openDir(target.dropLast(), create: false, entry: entry.path) else { throw notInImage }
    defer { close(targetDir) }
    var st = stat()
    guard fstatat(targetDir, targetName, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) != S_IFDIR else {
      throw notInImage
    }
    try replace(name, in: parent, entry: entry.path)
    if linkat(targetDir, targetName, parent, name, 0) != 0 { throw fail("link", entry.path) }
  }

  private func whiteout(_ name: String, _ parentComps: ArraySlice<String>, entry: String) throws(HostError) {
    if name != ".wh..wh..opq" && name.hasPrefix(".wh..wh.") { return }  // aufs bookkeeping, not a whiteout
    guard let dir = try openDir(parentComps, create: false, entry: entry) else { return }
    defer { close(dir) }
    let prefix = parentComps.joined(separator: "/")
    if name == ".wh..wh..opq" { return try prune(dir, prefix: prefix, entry: entry) }
    let hidden = String(name.dropFirst(4))
    guard !hidden.isEmpty, hidden != ".", hidden != ".." else {
      throw HostError(.invalidArgument, "entry \(quote(entry)): bad whiteout name")
    }
    if written.contains(prefix.isEmpty ? hidden : prefix + "/" + hidden) { return }
    try TreeOps.remove(hidden, in: dir, path: entry)
  }

  /// Removes what earlier layers left in an opaque directory, keeping what this layer wrote.
  private func prune(_ dir: Int32, prefix: String, entry: String) throws(HostError) {
    for child in try TreeOps.entries(dir) {
      let key = prefix.isEmpty ? child : prefix + "/" + child
      if !written.contains(key) {
        try TreeOps.remove(child, in: dir, path: entry)
        continue
      }
      let fd = openat(dir, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if fd >= 0 {
        defer { close(fd) }
        try prune(fd, prefix: key, entry: entry)
      }
    }
  }

  /// Removes whatever is at `name` so the entry can take its place.
  private func replace(_ name: String, in parent: Int32, entry: String) throws(HostError) {
    var st = stat()
    if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { try TreeOps.remove(name, in: parent, path: entry) }
  }

  /// The directory at `comps` below the root, walked without following any symlink; missing ones are
  /// made when `create`, else nil. The caller closes the fd.
  private func openDir(_ comps: ArraySlice<String>, create: Bool, entry: String) throws(HostError) -> Int32? {
    var cur = dup(root)
    if cur < 0 { throw fail("dup", entry) }
    var walked = ""
    for c in comps {
      walked = walked.isEmpty ? c : walked + "/" + c
      var fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      if fd < 0 && errno == ENOENT && create {
        if mkdirat(cur, c, 0o755) != 0 && errno != EEXIST {
          let e = fail("mkdir", entry)
          close(cur)
          throw e
        }
        fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      }
      if fd < 0 {
        let code = errno
        var st = stat()
        let known = fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) == 0
        close(cur)
        if code == ENOENT && !create { return nil }
        if known && (st.st_mode & S_IFMT) == S_IFLNK {
          throw HostError(
            .invalidArgument,
            "entry \(quote(entry)): \(quote(walked)) is a symlink in the image; nothing is written through one")
        }
        if known { throw HostError(.invalidArgument, "entry \(quote(entry)): \(quote(walked)) is not a directory") }
        errno = code
        throw fail("open", entry)
      }
      close(cur)
      cur = fd
    }
    return cur
  }

  /// An entry's name as components below the root: leading `/` dropped, `.` skipped, `..` refused.
  private func clean(_ path: String, entry: String) throws(HostError) -> [String] {
    guard !path.utf8.contains(0) else { throw HostError(.invalidArgument, "entry \(quote(entry)): NUL in a name") }
    var out: [String] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." {
        throw HostError(.invalidArgument, "entry \(quote(entry)): a '..' component in \(quote(path)) is refused")
      }
      guard part.utf8.count <= 255 else {
        throw HostError(.invalidArgument, "entry \(quote(entry)): a component is longer than 255 bytes")
      }
      out.append(String(part))
    }
    guard out.count <= Self.maxDepth else {
      throw HostError(.invalidArgument, "entry \(quote(entry)): deeper than \(Self.maxDepth) directories")
    }
    return out
  }

  private func copyData(_ data: TarReader, to fd: Int32, entry: String) throws(HostError) {
    var chunk = [UInt8](repeating: 0, count: 1 << 18)
    while true {
      let n = try data.read(into: &chunk)
      if n == 0 { return }
      var off = 0
      while off < n {
        let w = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, n - off) }
        if w < 0 {
          if errno == EINTR { continue }
          throw fail("write", entry)
        }
        off += w
      }
    }
  }

  private func fail(_ step: String, _ entry: String) -> HostError {
    let code = errno
    return HostError(ErrorKind.from(errno: code), "entry \(quote(entry)): \(step): \(ErrorText.errno(code))")
  }
}
