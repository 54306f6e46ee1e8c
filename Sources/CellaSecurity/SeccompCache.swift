import CSeccomp
import CellaOCI
import CellaSys
import Glibc

/// Compiled filters kept on disk: libseccomp needs ~35 ms to compile the default profile for five
/// architectures, which is more than the rest of a `create`, and every container of a host usually
/// carries the same profile.
///
/// An entry is named by a fast hash of the profile's canonical bytes (its JSON and the libseccomp
/// version) and holds those bytes next to the BPF; a hit is one whose stored bytes equal the
/// profile's, so a hash collision or a damaged entry is a miss. The BPF of a hit is trusted: the
/// cache does not protect against whoever may write to it. It is used only when the directory and the
/// entry belong to the effective uid and are writable by no one else (and an entry is never a symlink),
/// so that writer is root on the state root, who could change the runtime itself.
public struct SeccompCache: Sendable {
  public let directory: String
  /// The file-name hash; tests swap in one that collides.
  let hash: @Sendable ([UInt8]) -> UInt64

  public init(directory: String) { self.init(directory: directory, hash: fnv1a64) }

  init(directory: String, hash: @escaping @Sendable ([UInt8]) -> UInt64) {
    self.directory = directory
    self.hash = hash
  }

  /// What identifies a compiled filter: the profile's canonical JSON and the libseccomp version.
  static func canonicalBytes(_ config: LinuxSeccomp) -> [UInt8] {
    var input = OCIJSON.encode(config, pretty: false, trailingNewline: false)
    if let v = seccomp_version() {
      input += Array("\n\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)".utf8)
    }
    return input
  }

  /// The cached filter, or a fresh compile that is then cached (best effort: a cache that cannot be
  /// written only costs time). A cache directory or entry that someone else could have written is not
  /// used: `warn` hears why, and the filter is compiled in memory.
  public func compile(_ config: LinuxSeccomp, warn: (String) -> Void = { _ in }) throws(SeccompError)
    -> CompiledSeccomp
  {
    let canonical = Self.canonicalBytes(config)
    let name = entryName(canonical)
    guard let dirFD = openDirectory(warn: warn) else { return try SeccompCompiler.compile(config) }
    defer { close(dirFD) }
    switch readEntry(dirFD, name) {
    case .refused(let reason):
      warn("seccomp cache: \(directory)/\(name) \(reason); not used, the filter is compiled in memory")
      return try SeccompCompiler.compile(config)
    case .bytes(let bytes):
      if let cached = Self.decode(bytes, profile: canonical) { return cached }
    case .missing:
      break
    }
    let compiled = try SeccompCompiler.compile(config)
    // A colliding profile's entry is replaced: the cache holds one profile per name.
    try? FileIO.writeAtomically(
      directory: directory, name: name, Self.encode(compiled, profile: canonical), mode: 0o600)
    return compiled
  }

  /// The file name of a profile's entry.
  func entryName(_ canonical: [UInt8]) -> String {
    let hex = String(hash(canonical), radix: 16)
    return "\(String(repeating: "0", count: 16 - hex.count))\(hex).bpf"
  }

  /// Opens the cache directory, making it (0700) when missing; nil, after a warning, when it is not a
  /// directory, or belongs to another uid, or others may write to it.
  private func openDirectory(warn: (String) -> Void) -> Int32? {
    var path = ""
    for part in directory.split(separator: "/") {
      path += "/\(part)"
      _ = mkdir(path, 0o700)
    }
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 {
      let e = errno
      // Not there and not makeable (a read-only root): nothing to warn about, it only costs time.
      if e != ENOENT && e != EACCES && e != EROFS {
        warn("seccomp cache: \(directory): \(SysError.describe(e)); not used, the filter is compiled in memory")
      }
      return nil
    }
    if let reason = Self.untrusted(fd) {
      warn("seccomp cache: \(directory) \(reason); not used, the filter is compiled in memory")
      close(fd)
      return nil
    }
    return fd
  }

  private enum Entry {
    case missing
    case bytes([UInt8])
    case refused(String)
  }

  /// Reads entry `name` without following a symlink, if it is a regular file only we could have written.
  private func readEntry(_ dirFD: Int32, _ name: String) -> Entry {
    let fd = openat(dirFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return .missing }
      return .refused(errno == ELOOP ? "is a symbolic link" : "cannot be opened: \(SysError.describe(errno))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .refused("is not a regular file") }
    if let reason = Self.untrusted(fd) { return .refused(reason) }
    guard let bytes = try? FileIO.readAll(fd: fd, limit: 4 << 20) else { return .missing }
    return .bytes(bytes)
  }

  /// Why the file behind `fd` may hold what someone else wrote (another owner, group or other write
  /// permission), or nil.
  static func untrusted(_ fd: Int32) -> String? {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return "cannot be examined: \(SysError.describe(errno))" }
    if st.st_uid != geteuid() { return "belongs to uid \(st.st_uid), not \(geteuid())" }
    if st.st_mode & 0o022 != 0 {
      return "is writable by group or others (mode \(String(st.st_mode & 0o7777, radix: 8)))"
    }
    return nil
  }

  /// Marks the entry format; a file without it (an older cache) is a miss.
  static let magic = Array("cella-seccomp-2\n".utf8)

  /// magic, profile length, the profile's canonical bytes, flags, needsListener (1 byte), BPF length,
  /// then the BPF; numbers are 4 bytes, little endian. Both lengths make a cut-off file a miss.
  static func encode(_ c: CompiledSeccomp, profile: [UInt8]) -> [UInt8] {
    magic + littleEndian(UInt32(truncatingIfNeeded: profile.count)) + profile + littleEndian(c.flags)
      + [c.needsListener ? 1 : 0] + littleEndian(UInt32(truncatingIfNeeded: c.bpf.count)) + c.bpf
  }

  /// The filter of an entry whose stored profile is `profile` byte for byte; nil for anything else
  /// (another profile, a truncated or damaged file).
  static func decode(_ bytes: [UInt8], profile: [UInt8]) -> CompiledSeccomp? {
    var rest = bytes[...]
    guard rest.starts(with: magic) else { return nil }
    rest = rest.dropFirst(magic.count)
    guard let length = readUInt32(&rest), Int(length) == profile.count, rest.count >= profile.count,
      rest.prefix(profile.count).elementsEqual(profile)
    else { return nil }
    rest = rest.dropFirst(profile.count)
    guard let flags = readUInt32(&rest), let listener = rest.popFirst(), listener <= 1,
      let bpfLength = readUInt32(&rest), Int(bpfLength) == rest.count, !rest.isEmpty, rest.count % 8 == 0
    else { return nil }
    return CompiledSeccomp(bpf: Array(rest), flags: flags, needsListener: listener == 1, skippedSyscalls: [])
  }

  private static func littleEndian(_ v: UInt32) -> [UInt8] {
    [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) }
  }

  private static func readUInt32(_ bytes: inout ArraySlice<UInt8>) -> UInt32? {
    guard bytes.count >= 4 else { return nil }
    let v = bytes.prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32($1.offset * 8) }
    bytes = bytes.dropFirst(4)
    return v
  }
}

/// FNV-1a, 64 bits: spreads entries over file names; equality is decided by the stored profile.
@Sendable func fnv1a64(_ bytes: [UInt8]) -> UInt64 { FNV1a.hash64(bytes) }
