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
/// profile's, so neither a hash collision nor an edited entry can hand a container another filter.
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

  /// The entry file of a profile.
  func path(_ canonical: [UInt8]) -> String {
    let hex = String(hash(canonical), radix: 16)
    return "\(directory)/\(String(repeating: "0", count: 16 - hex.count))\(hex).bpf"
  }

  /// The cached filter, or a fresh compile that is then cached (best effort: a cache that cannot be
  /// written only costs time).
  public func compile(_ config: LinuxSeccomp) throws(SeccompError) -> CompiledSeccomp {
    let canonical = Self.canonicalBytes(config)
    let path = path(canonical)
    if let bytes = try? FileIO.read(path), let cached = Self.decode(bytes, profile: canonical) { return cached }
    let compiled = try SeccompCompiler.compile(config)
    var dir = ""
    for part in directory.split(separator: "/") {
      dir += "/\(part)"
      _ = mkdir(dir, 0o700)
    }
    // A colliding profile's entry is replaced: the cache holds one profile per name.
    let name = String(path.split(separator: "/").last ?? "")
    try? FileIO.writeAtomically(
      directory: directory, name: name, Self.encode(compiled, profile: canonical), mode: 0o600)
    return compiled
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
@Sendable func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  for b in bytes {
    h ^= UInt64(b)
    h = h &* 0x0000_0100_0000_01b3
  }
  return h
}
