import CellaErrors
import CellaSys
import Glibc

/// An ext4 disk image of a root filesystem tree, made offline by e2fsprogs' `mkfs.ext4 -d` (no loop
/// device, no mount): the read-only base that VM guests of one image share under their qcow2 overlays.
public enum RootDisk {
  /// The label the guest's init may find its root by.
  public static let label = "cella-root"
  /// Free space the guest gets on top of the tree by default. The file is sparse: free space costs
  /// nothing on the host until the guest writes it, and then only in its own overlay.
  public static let defaultFreeSpace: UInt64 = 1 << 30

  /// What a build measured.
  public struct Built: Sendable, Equatable {
    /// The filesystem's (and the file's) size in bytes.
    public let size: UInt64
    /// Bytes and inodes the tree takes.
    public let treeBytes: UInt64
    public let treeInodes: UInt64
  }

  /// Writes an ext4 image of `rootfs` to `output` (replaced atomically, mode 0644), keeping owners, modes,
  /// links, device nodes and extended attributes. The journal stays (a killed guest's root then needs no
  /// fsck, which its init has none of), uninitialised: on a new sparse file it reads as zeros anyway.
  @discardableResult
  public static func build(rootfs: String, output: String, freeSpace: UInt64 = defaultFreeSpace) throws(VMError)
    -> Built
  {
    guard FileIO.isDirectory(rootfs) else {
      throw VMError(.notFound, "\(rootfs): not a directory (a root filesystem tree is needed)")
    }
    guard let mkfs = KernelTool.find("mkfs.ext4") else {
      throw VMError(.unsupported, "\(output): mkfs.ext4 is not installed (apt-get install e2fsprogs)")
    }
    var usage = TreeUsage()
    try usage.add(rootfs)
    let blocks = (usage.bytes + freeSpace) / 4096
    // Inode tables, bitmaps and the journal take about 8% of a small filesystem; 1/8 covers them.
    let size = ((blocks + blocks / 8 + 4096) * 4096 + (1 << 20) - 1) & ~UInt64((1 << 20) - 1)
    let inodes = max(usage.inodes + usage.inodes / 4 + 16384, size / 16384)
    let part = output + ".tmp"
    unlink(part)
    let args = [
      "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-N", String(inodes), "-m", "1", "-L", label,
      "-E", "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0", "-d", rootfs, part, String(size / 1024) + "k",
    ]
    // About 20 MiB/s on a loaded host, with a floor for the start-up of a tiny tree.
    let timeout = 60 + Double(usage.bytes) / Double(20 << 20)
    let outcome: KernelTool.Outcome
    do { outcome = try KernelTool.run(mkfs, args, timeout: timeout) } catch {
      unlink(part)
      throw error
    }
    guard !outcome.timedOut, outcome.exitCode == 0 else {
      unlink(part)
      if outcome.timedOut { throw VMError(.system, "\(output): mkfs.ext4 did not finish within \(Int(timeout)) s") }
      let why = KernelTool.lastLine(outcome.stderr)
      throw VMError(
        .system, "\(output): mkfs.ext4 -d \(rootfs) failed (exit \(outcome.exitCode))" + (why.isEmpty ? "" : ": \(why)")
      )
    }
    if chmod(part, 0o644) != 0 || rename(part, output) != 0 {
      let code = errno
      unlink(part)
      throw VMError("\(output): rename", errno: code)
    }
    return Built(size: size, treeBytes: usage.bytes, treeInodes: usage.inodes)
  }

  /// Blocks and inodes a tree takes in ext4 terms (4 KiB blocks; hard links counted once).
  struct TreeUsage {
    var bytes: UInt64 = 0
    var inodes: UInt64 = 0
    private var seen: Set<[UInt64]> = []

    mutating func add(_ path: String) throws(VMError) {
      var st = stat()
      guard lstat(path, &st) == 0 else { throw VMError("\(path): lstat", errno: errno) }
      if st.st_nlink > 1 && (st.st_mode & S_IFMT) != S_IFDIR {
        guard seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { return }
      }
      inodes += 1
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        let names: [String]
        do { names = try FileIO.listDirectory(path) } catch {
          throw VMError(ErrorKind.from(errno: error.errno), "\(error)")
        }
        bytes += (UInt64(names.count) * 32 / 4096 + 1) * 4096
        for name in names { try add(path + "/" + name) }
      case S_IFREG:
        bytes += (UInt64(max(st.st_size, 0)) + 4095) / 4096 * 4096
      case S_IFLNK:
        // Targets under 60 bytes live in the inode itself.
        if st.st_size >= 60 { bytes += 4096 }
      default:
        break
      }
    }
  }
}
