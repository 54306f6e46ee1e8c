import CellaOCI
import CellaSys
import Glibc

/// The user an image's `User` names (`uid`, `uid:gid`, `name`, `name:group`), resolved through the
/// image's own /etc/passwd and /etc/group. Those are read through `InRoot`, so a symlink in the image
/// never makes the daemon read a host file.
enum ImageUser {
  /// The largest passwd or group file read.
  static let maxFileBytes = 1 << 20

  /// The process user for `text` (nil or empty: root), looked up in the root filesystem at `root`.
  static func resolve(_ text: String?, root: String, guest: String) throws(HostError) -> User {
    guard let text, !text.isEmpty else { return User(uid: 0, gid: 0) }
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let userPart = parts[0]
    let groupPart = parts.count > 1 ? parts[1] : nil
    func fail(_ why: String) -> HostError {
      HostError(.invalidArgument, "guest \(ConfigValues.quote(guest)): image user \(ConfigValues.quote(text)): \(why)")
    }
    if userPart.isEmpty || groupPart?.isEmpty == true { throw fail("expected uid[:gid] or name[:group]") }

    let numericUser = UInt32(userPart)
    let numericGroup = groupPart.flatMap { UInt32($0) }
    // Numbers alone need no files; names, and a uid without a gid, read the image's passwd.
    var passwd: [[String]] = []
    if numericUser == nil || groupPart == nil {
      passwd = try table("/etc/passwd", root: root, required: numericUser == nil, guest: guest, user: text)
    }
    let entry: [String]?
    if let numericUser {
      entry = passwd.first { $0.count >= 4 && UInt32($0[2]) == numericUser }
    } else {
      entry = passwd.first { $0.count >= 4 && $0[0] == userPart }
      if entry == nil { throw fail("no user \(ConfigValues.quote(userPart)) in the image's /etc/passwd") }
    }
    guard let uid = numericUser ?? entry.flatMap({ UInt32($0[2]) }) else {
      throw fail("the image's /etc/passwd has no number for \(ConfigValues.quote(userPart))")
    }
    // A group name needs /etc/group; a known user reads it for its supplementary groups.
    let needGroups = groupPart != nil && numericGroup == nil
    var group: [[String]] = []
    if needGroups || entry != nil {
      group = try table("/etc/group", root: root, required: needGroups, guest: guest, user: text)
    }
    var gid: UInt32
    if let groupPart {
      if let numericGroup {
        gid = numericGroup
      } else if let g = group.first(where: { $0.count >= 3 && $0[0] == groupPart }), let n = UInt32(g[2]) {
        gid = n
      } else {
        throw fail("no group \(ConfigValues.quote(groupPart)) in the image's /etc/group")
      }
    } else {
      gid = entry.flatMap { UInt32($0[3]) } ?? 0
    }
    // Supplementary groups of a named user, as login would set them.
    var extra: [UInt32] = []
    if let name = entry?[0] {
      for g in group where g.count >= 4 && g[3].split(separator: ",").contains(Substring(name)) {
        if let n = UInt32(g[2]), n != gid, !extra.contains(n) { extra.append(n) }
      }
    }
    return User(uid: uid, gid: gid, additionalGids: extra.isEmpty ? nil : extra)
  }

  /// The colon-separated lines of `path` inside `root`; empty when it is missing and not `required`.
  private static func table(_ path: String, root: String, required: Bool, guest: String, user: String)
    throws(HostError) -> [[String]]
  {
    let bytes: [UInt8]
    do {
      bytes = try readInRoot(path, root: root)
    } catch {
      if !required && error.errno == ENOENT { return [] }
      throw HostError(
        error.kind,
        "guest \(ConfigValues.quote(guest)): image user \(ConfigValues.quote(user)): \(path) of the image: \(error.reason)"
      )
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
      line.hasPrefix("#") ? nil : line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }
  }

  /// A regular file inside `root`, never following a link out of it nor opening a device or fifo.
  static func readInRoot(_ path: String, root: String) throws(SysError) -> [UInt8] {
    let rootFD = try FileDescriptor.open(root, flags: O_PATH | O_DIRECTORY)
    let pathFD = FileDescriptor(adopting: try InRoot.open(root: rootFD.rawValue, path, flags: O_PATH))
    guard InRoot.fileType(pathFD.rawValue) == S_IFREG else { throw SysError("read", path: path, errno: EINVAL) }
    let fd = try FileDescriptor.open(InRoot.procPath(pathFD.rawValue), flags: O_RDONLY)
    let bytes = try FileIO.readAll(fd: fd.rawValue, limit: maxFileBytes + 1, path: path)
    if bytes.count > maxFileBytes { throw SysError("read", path: path, errno: EFBIG) }
    return bytes
  }
}
