import CellaErrors
import CellaSys
import Glibc

/// The uncompressed vmlinux inside an x86 bzImage, and its PVH entry point.
///
/// QEMU boots an ELF kernel with a PVH note straight into 32-bit protected mode, skipping the bzImage's
/// real-mode setup and self-decompression: 1.8 s instead of 7.3 s to init under TCG (issue 11).
public enum KernelImage {
  /// How a bzImage's payload is compressed, told by its first bytes.
  public enum Compression: String, Sendable, CaseIterable {
    case gzip, xz, zstd, lzma, bzip2, lz4

    /// The compression whose magic `bytes` start with, nil for none known.
    public static func detect(_ bytes: ArraySlice<UInt8>) -> Compression? {
      for c in allCases where bytes.starts(with: c.magic) { return c }
      return nil
    }

    var magic: [UInt8] {
      switch self {
      case .gzip: return [0x1f, 0x8b]
      case .xz: return [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]
      case .zstd: return [0x28, 0xb5, 0x2f, 0xfd]
      case .lzma: return [0x5d, 0x00, 0x00]
      case .bzip2: return [0x42, 0x5a, 0x68]
      case .lz4: return [0x02, 0x21, 0x4c, 0x18]
      }
    }

    /// The filter that decompresses it to stdout, nil where cella spawns none.
    var filter: (tool: String, args: [String])? {
      switch self {
      case .gzip: return ("gzip", ["-dc"])
      case .xz: return ("xz", ["-dc"])
      case .zstd: return ("zstd", ["-dcq"])
      case .lzma, .bzip2, .lz4: return nil
      }
    }

    /// Whether the kernel's build appended the 4-byte uncompressed size (every method but gzip).
    var hasSizeTrailer: Bool { self != .gzip }
  }

  /// Where a bzImage's compressed kernel lies in the file.
  public struct Payload: Sendable, Equatable {
    public let offset: Int
    public let length: Int
    public let compression: Compression
  }

  /// XEN_ELFNOTE_PHYS32_ENTRY: the note QEMU's PVH boot looks for, in a note named "Xen".
  static let pvhNoteType: UInt32 = 18

  /// Finds the compressed payload from the boot protocol header (`HdrS`, protocol 2.08 or later).
  public static func payload(ofBzImage bytes: [UInt8], path: String) throws(VMError) -> Payload {
    guard bytes.count >= 0x250, bytes[0x202..<0x206].elementsEqual("HdrS".utf8) else {
      throw VMError(.invalidArgument, "\(path): not a bzImage (no HdrS boot header)")
    }
    let version = le16(bytes, 0x206)
    guard version >= 0x0208 else {
      throw VMError(.unsupported, "\(path): boot protocol \(version >> 8).\(version & 0xff) has no payload fields")
    }
    let setupSectors = bytes[0x1f1] == 0 ? 4 : Int(bytes[0x1f1])
    let offset = (setupSectors + 1) * 512 + Int(le32(bytes, 0x248))
    let length = Int(le32(bytes, 0x24c))
    guard length > 4, offset + length <= bytes.count else {
      throw VMError(.invalidArgument, "\(path): payload (\(length) bytes at \(offset)) lies outside the file")
    }
    guard let compression = Compression.detect(bytes[offset..<offset + length]) else {
      throw VMError(.unsupported, "\(path): payload compression not recognised")
    }
    return Payload(offset: offset, length: length, compression: compression)
  }

  /// The PVH entry address of an x86 ELF kernel (ELF32 or ELF64, little-endian), read through `read`
  /// (offset, count → those bytes, or fewer at the end).
  public static func pvhEntry(path: String, read: (Int, Int) -> [UInt8]) throws(VMError) -> UInt64 {
    let header = read(0, 64)
    guard header.count >= 52, header[0..<4].elementsEqual([0x7f, 0x45, 0x4c, 0x46]) else {
      throw VMError(.invalidArgument, "\(path): not an ELF file")
    }
    let is64 = header[4] == 2
    guard header[4] == 1 || is64, header[5] == 1, !is64 || header.count >= 64 else {
      throw VMError(.invalidArgument, "\(path): not a little-endian ELF32/ELF64 file")
    }
    let machine = le16(header, 18)
    guard machine == 62 || machine == 3 else {
      throw VMError(.invalidArgument, "\(path): ELF machine \(machine) is not x86")
    }
    let phoff = is64 ? Int(clamping: le64(header, 32)) : Int(le32(header, 28))
    let phentsize = Int(le16(header, is64 ? 54 : 42))
    let phnum = Int(le16(header, is64 ? 56 : 44))
    guard phentsize >= (is64 ? 56 : 32), phnum <= 256 else {
      throw VMError(.invalidArgument, "\(path): bad ELF program header table")
    }
    for i in 0..<phnum {
      let ph = read(phoff + i * phentsize, phentsize)
      guard ph.count == phentsize else { throw VMError(.invalidArgument, "\(path): truncated ELF program headers") }
      guard le32(ph, 0) == 4 else { continue }  // PT_NOTE
      let offset = is64 ? Int(clamping: le64(ph, 8)) : Int(le32(ph, 4))
      let size = is64 ? Int(clamping: le64(ph, 32)) : Int(le32(ph, 16))
      guard size <= 1 << 20 else { continue }
      let notes = read(offset, size)
      if let entry = pvhEntry(notes: notes) { return entry }
    }
    throw VMError(.unsupported, "\(path): no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); the kernel lacks CONFIG_PVH")
  }

  /// The PVH entry in a run of ELF notes, nil when none is there.
  static func pvhEntry(notes: [UInt8]) -> UInt64? {
    var at = 0
    while at + 12 <= notes.count {
      let nameSize = Int(le32(notes, at))
      let descSize = Int(le32(notes, at + 4))
      let type = le32(notes, at + 8)
      let name = at + 12
      let desc = name + (nameSize + 3) & ~3
      guard nameSize <= notes.count, descSize <= notes.count, desc + descSize <= notes.count else { return nil }
      if type == pvhNoteType, notes[name..<name + nameSize].elementsEqual([0x58, 0x65, 0x6e, 0]) {
        if descSize == 4 { return UInt64(le32(notes, desc)) }
        if descSize == 8 { return le64(notes, desc) }
      }
      at = desc + (descSize + 3) & ~3
    }
    return nil
  }

  /// Writes the vmlinux inside `bzImage` to `output` (replaced atomically) through the payload's
  /// decompressor, checks its PVH note and returns the entry address.
  @discardableResult
  public static func extractVmlinux(from bzImage: String, to output: String, timeout: Double = 60) throws(VMError)
    -> UInt64
  {
    let bytes: [UInt8]
    do { bytes = try FileIO.read(bzImage, limit: 256 << 20) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(bzImage): \(error)")
    }
    let payload = try payload(ofBzImage: bytes, path: bzImage)
    guard let filter = payload.compression.filter else {
      throw VMError(.unsupported, "\(bzImage): \(payload.compression.rawValue)-compressed kernels are not supported")
    }
    guard let tool = KernelTool.find(filter.tool) else {
      throw VMError(.unsupported, "\(bzImage): is \(payload.compression.rawValue)-compressed; install \(filter.tool)")
    }
    let compressedPath = output + ".payload.tmp"
    let partPath = output + ".tmp"
    defer {
      unlink(compressedPath)
      unlink(partPath)
    }
    let end = payload.offset + payload.length - (payload.compression.hasSizeTrailer ? 4 : 0)
    do { try FileIO.writeAtomically(path: compressedPath, Array(bytes[payload.offset..<end]), durable: false) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(compressedPath): \(error)")
    }
    let input = open(compressedPath, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw VMError(.system, "\(compressedPath): \(String(cString: strerror(errno)))") }
    defer { close(input) }
    let out = open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard out >= 0 else {
      throw VMError(ErrorKind.from(errno: errno), "\(partPath): \(String(cString: strerror(errno)))")
    }
    let outcome: KernelTool.Outcome
    do { outcome = try KernelTool.run(tool, filter.args, stdin: input, stdout: out, timeout: timeout) } catch {
      close(out)
      throw error
    }
    close(out)
    if outcome.timedOut {
      throw VMError(.system, "\(bzImage): \(filter.tool) did not finish within \(Int(timeout)) s")
    }
    if outcome.exitCode != 0 {
      let why = KernelTool.lastLine(outcome.stderr)
      throw VMError(
        .invalidArgument,
        "\(bzImage): \(filter.tool) \(filter.args.joined(separator: " ")) failed (exit \(outcome.exitCode))"
          + (why.isEmpty ? "" : ": " + why))
    }
    let entry = try pvhEntry(path: "\(bzImage): its vmlinux", file: partPath)
    if rename(partPath, output) != 0 {
      throw VMError(ErrorKind.from(errno: errno), "\(output): rename: \(String(cString: strerror(errno)))")
    }
    return entry
  }

  /// The PVH entry address of the ELF kernel at `file`.
  public static func pvhEntry(path: String, file: String) throws(VMError) -> UInt64 {
    let fd = open(file, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw VMError(ErrorKind.from(errno: errno), "\(file): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    return try pvhEntry(path: path) { offset, count in
      guard offset >= 0, count > 0 else { return [] }
      var buffer = [UInt8](repeating: 0, count: count)
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
      return n > 0 ? Array(buffer[0..<n]) : []
    }
  }

  static func le16(_ b: [UInt8], _ at: Int) -> UInt16 {
    guard at + 2 <= b.count else { return 0 }
    return UInt16(b[at]) | UInt16(b[at + 1]) << 8
  }

  static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
    guard at + 4 <= b.count else { return 0 }
    return (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) }
  }

  static func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
    guard at + 8 <= b.count else { return 0 }
    return (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) }
  }
}
