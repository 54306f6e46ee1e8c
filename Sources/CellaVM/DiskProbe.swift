import CellaErrors
import CellaSys
import Glibc

/// What `qemu-img info` says about a disk image and every image under it.
public struct DiskInfo: Sendable, Equatable {
  /// The image as given.
  public let path: String
  public let format: VMDiskFormat
  /// The size the guest sees, in bytes.
  public let virtualSize: UInt64
  /// Its backing files, nearest first, as canonical absolute paths (symlinks and `..` resolved).
  public let backingChain: [BackingFile]

  public init(path: String, format: VMDiskFormat, virtualSize: UInt64, backingChain: [BackingFile]) {
    self.path = path
    self.format = format
    self.virtualSize = virtualSize
    self.backingChain = backingChain
  }
}

/// One file under an image.
public struct BackingFile: Sendable, Equatable {
  /// Its canonical absolute path.
  public let path: String
  public let format: VMDiskFormat

  public init(path: String, format: VMDiskFormat) {
    self.path = path
    self.format = format
  }
}

/// Reads disk images given by users before QEMU opens them.
///
/// The chain is walked one image at a time (`qemu-img info` without `--backing-chain` never opens a
/// backing file), so each backing file is checked before anything opens it: opening a device node as root
/// has effects (a watchdog starts counting), and a file outside the allowed directories is not read at all.
public enum DiskProbe {
  /// More backing files than this is a hostile or broken image.
  static let maxChain = 16

  /// The format, virtual size and backing chain of the image at `path`. With `backingWithin`, a backing
  /// file outside those directories is refused before it is opened (see `checkBackingChain`).
  public static func inspect(_ path: String, backingWithin allowed: [String]? = nil) throws(VMError) -> DiskInfo {
    let top = try inspectOne(path, shownAs: path)
    var chain: [BackingFile] = []
    var next = top.backing
    var seen: Set<String> = [try canonical(path, of: path)]
    while let backing = next {
      guard chain.count < maxChain else {
        throw VMError(.invalidArgument, "\(path): a backing chain longer than \(maxChain) files")
      }
      let resolved = try canonical(backing, of: path)
      if let allowed { try checkInside(resolved, named: backing, allowed, image: path) }
      guard seen.insert(resolved).inserted else {
        throw VMError(.invalidArgument, "\(path): backing chain loops through \(resolved)")
      }
      let one = try inspectOne(resolved, shownAs: "\(path): backing file \(resolved)")
      chain.append(BackingFile(path: resolved, format: one.format))
      next = one.backing
    }
    return DiskInfo(path: path, format: top.format, virtualSize: top.virtualSize, backingChain: chain)
  }

  /// Refuses a chain with a backing file outside every one of `allowedDirectories` (the guest's own and
  /// the image store's): a user's qcow2 must not make QEMU read a host file such as /etc/shadow.
  public static func checkBackingChain(_ info: DiskInfo, allowedDirectories: [String]) throws(VMError) {
    for file in info.backingChain {
      try checkInside(file.path, named: file.path, allowedDirectories, image: info.path)
    }
  }

  /// Refuses a raw disk without an MBR boot signature (0x55 0xAA at byte 510) for a firmware boot: SeaBIOS
  /// would say only "No bootable device". A qcow2 is not read here (its first sector may live in a backing
  /// file or be unallocated); QEMU's own boot failure shows on its console.
  public static func checkBootable(_ path: String, format: VMDiskFormat) throws(VMError) {
    guard format == .raw else { return }
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else { throw VMError("\(path): open", errno: errno) }
    defer { close(fd) }
    var sector = [UInt8](repeating: 0, count: 512)
    let n = sector.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
    guard n == 512, sector[510] == 0x55, sector[511] == 0xAA else {
      throw VMError(
        .invalidArgument,
        "\(path): no boot sector (no 0x55AA signature at byte 510); a firmware boot needs a boot loader")
    }
  }

  /// One image's own facts, its backing file as written in it (nil for none).
  struct One {
    let format: VMDiskFormat
    let virtualSize: UInt64
    let backing: String?
  }

  static func inspectOne(_ path: String, shownAs about: String) throws(VMError) -> One {
    let fileSize = try checkRegularFile(path, about: about)
    let output = try QEMUImg.run(["info", "--output=json", path], about: about)
    let json: QMPValue
    do { json = try QMPValue.parse(output) } catch {
      throw VMError(.internal, "\(about): qemu-img info printed no JSON (column \(error.column): \(error.reason))")
    }
    let one = try facts(json, path: path, about: about)
    // QEMU rounds a raw file up to whole sectors; a real disk image never needs that.
    if one.format == .raw && fileSize % 512 != 0 {
      throw VMError(
        .invalidArgument, "\(about): \(fileSize) bytes is not a whole number of 512-byte sectors; not a disk image")
    }
    return one
  }

  /// The facts in one `qemu-img info --output=json` answer; a backing name is resolved like QEMU does,
  /// relative to the directory of the image naming it.
  static func facts(_ json: QMPValue, path: String, about: String) throws(VMError) -> One {
    guard let name = json["format"]?.string else { throw VMError(.internal, "\(about): qemu-img info names no format") }
    guard let format = VMDiskFormat(rawValue: name) else {
      throw VMError(.unsupported, "\(about): a \(name) image; convert it with qemu-img convert -O qcow2")
    }
    guard let sizeText = json["virtual-size"], case .number(let digits) = sizeText, let size = UInt64(digits) else {
      throw VMError(.internal, "\(about): qemu-img info gives no virtual size")
    }
    // A qcow2 may keep its data in another file, which the guest then reads and writes: never allowed.
    if let dataFile = json["format-specific"]?["data"]?["data-file"]?.string {
      throw VMError(.unsupported, "\(about): a qcow2 with an external data file (\(dataFile)) is not supported")
    }
    guard let written = json["backing-filename"]?.string else {
      return One(format: format, virtualSize: size, backing: nil)
    }
    // QEMU reads `proto:...` (nbd:, json:{...}, ...) before any slash as a protocol, not a file name.
    if let colon = written.firstIndex(of: ":"), !written[..<colon].contains("/") {
      throw VMError(.unsupported, "\(about): backing file \(written) is not a plain file")
    }
    let backing: String
    if written.hasPrefix("/") {
      backing = written
    } else {
      let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
      backing = (dir.isEmpty ? "" : dir) + "/" + written
    }
    return One(format: format, virtualSize: size, backing: backing)
  }

  /// The size of a regular file (after symlinks): a directory, device, socket or fifo is never an image here.
  static func checkRegularFile(_ path: String, about: String) throws(VMError) -> UInt64 {
    var st = stat()
    guard stat(path, &st) == 0 else { throw VMError(about, errno: errno) }
    let kind: String
    switch st.st_mode & S_IFMT {
    case S_IFREG: return UInt64(max(st.st_size, 0))
    case S_IFDIR: kind = "a directory"
    case S_IFBLK: kind = "a block device"
    case S_IFCHR: kind = "a character device"
    case S_IFIFO: kind = "a fifo"
    case S_IFSOCK: kind = "a socket"
    default: kind = "not a regular file"
    }
    throw VMError(.invalidArgument, "\(about): \(kind), not a disk image file")
  }

  /// The canonical path of `file` (named in or as the image `image`).
  static func canonical(_ file: String, of image: String) throws(VMError) -> String {
    guard let resolved = realpath(file, nil) else {
      let code = errno
      throw VMError(
        ErrorKind.from(errno: code),
        file == image
          ? "\(image): \(ErrorText.errno(code))"
          : "\(image): backing file \(file): \(ErrorText.errno(code))")
    }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  static func checkInside(_ resolved: String, named: String, _ allowed: [String], image: String) throws(VMError) {
    for dir in allowed {
      var root = dir
      if let real = realpath(dir, nil) {
        root = String(cString: real)
        free(real)
      }
      if root == "/" || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") { return }
    }
    throw VMError(
      .permission, "\(image): backing file \(resolved) is outside the guest's and the image store's directories")
  }
}
