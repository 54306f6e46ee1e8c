import CellaErrors

/// An archive in cpio's "newc" format (the one the kernel unpacks as an initramfs), built in memory.
///
/// Entries carry mtime 0, uid and gid 0 and fresh inode numbers, so the same input gives the same bytes.
public struct CpioWriter: Sendable {
  private(set) var bytes: [UInt8] = []
  private var nextInode: UInt32 = 1
  private var finished = false

  public init() {}

  /// Adds a directory.
  public mutating func directory(_ path: String, mode: UInt32 = 0o755) throws(VMError) {
    try append(path, mode: 0o040000 | (mode & 0o7777), data: [])
  }

  /// Adds a regular file with `data`.
  public mutating func file(_ path: String, mode: UInt32 = 0o644, data: [UInt8]) throws(VMError) {
    try append(path, mode: 0o100000 | (mode & 0o7777), data: data)
  }

  /// Adds a symbolic link to `target` (its data is the target's text).
  public mutating func symlink(_ path: String, target: String) throws(VMError) {
    guard !target.isEmpty, !target.utf8.contains(0) else {
      throw VMError(.invalidArgument, "cpio: \(path): bad symlink target \"\(target)\"")
    }
    try append(path, mode: 0o120777, data: Array(target.utf8))
  }

  /// Adds a character device node (`/dev/console` for an init that writes before mounting devtmpfs).
  public mutating func characterDevice(_ path: String, mode: UInt32 = 0o600, major: UInt32, minor: UInt32)
    throws(VMError)
  {
    try append(path, mode: 0o020000 | (mode & 0o7777), data: [], rdev: (major, minor))
  }

  /// The archive with its `TRAILER!!!` entry; the writer takes no more entries after this.
  public mutating func finish() -> [UInt8] {
    if !finished {
      writeEntry(name: "TRAILER!!!", inode: 0, mode: 0, nlink: 1, data: [], rdev: (0, 0))
      finished = true
    }
    return bytes
  }

  private mutating func append(_ path: String, mode: UInt32, data: [UInt8], rdev: (UInt32, UInt32) = (0, 0))
    throws(VMError)
  {
    guard !finished else { throw VMError(.invalidState, "cpio: \(path): the archive is already finished") }
    // The kernel's unpacker joins names to / as given: an absolute or climbing name would land outside.
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard !path.isEmpty, !path.hasPrefix("/"), !path.utf8.contains(0),
      !parts.contains(where: { $0 == ".." || $0.isEmpty }),
      path != "TRAILER!!!"
    else {
      throw VMError(.invalidArgument, "cpio: \"\(path)\": a name must be relative, without empty or .. parts")
    }
    guard data.count <= Int(UInt32.max) else { throw VMError(.invalidArgument, "cpio: \(path): larger than 4 GiB") }
    writeEntry(
      name: path, inode: nextInode, mode: mode, nlink: mode & 0o170000 == 0o040000 ? 2 : 1, data: data, rdev: rdev)
    nextInode += 1
  }

  private mutating func writeEntry(
    name: String, inode: UInt32, mode: UInt32, nlink: UInt32, data: [UInt8], rdev: (UInt32, UInt32)
  ) {
    let nameBytes = Array(name.utf8) + [0]
    let fields: [UInt32] = [
      inode, mode, 0, 0, nlink, 0, UInt32(data.count), 0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0,
    ]
    bytes += Array("070701".utf8)
    for field in fields { bytes += Self.hex8(field) }
    bytes += nameBytes
    pad()
    bytes += data
    pad()
  }

  /// Header plus name, and data, each end on a 4-byte boundary.
  private mutating func pad() {
    while bytes.count % 4 != 0 { bytes.append(0) }
  }

  static func hex8(_ value: UInt32) -> [UInt8] {
    let digits = Array("0123456789ABCDEF".utf8)
    return (0..<8).reversed().map { digits[Int((value >> (4 * UInt32($0))) & 0xf)] }
  }
}
