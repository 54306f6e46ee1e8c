import CSeccomp
import CellaOCI
import CellaSys
import Glibc

/// Compiled filters kept on disk, keyed by the SHA-256 of the profile and the libseccomp version:
/// libseccomp needs ~35 ms to compile the default profile for five architectures, which is more than
/// the rest of a `create`, and every container of a host usually carries the same profile.
public struct SeccompCache: Sendable {
  public let directory: String

  public init(directory: String) { self.directory = directory }

  /// The cache key of a profile.
  public static func key(_ config: LinuxSeccomp) -> String {
    var input = OCIJSON.encode(config, pretty: false, trailingNewline: false)
    if let v = seccomp_version() {
      input += Array("\n\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)".utf8)
    }
    return SHA256.hex(input)
  }

  /// The cached filter, or a fresh compile that is then cached (best effort: a cache that cannot be
  /// written only costs time).
  public func compile(_ config: LinuxSeccomp) throws(SeccompError) -> CompiledSeccomp {
    let path = "\(directory)/\(Self.key(config)).bpf"
    if let bytes = try? FileIO.read(path), let cached = Self.decode(bytes) { return cached }
    let compiled = try SeccompCompiler.compile(config)
    var dir = ""
    for part in directory.split(separator: "/") {
      dir += "/\(part)"
      _ = mkdir(dir, 0o700)
    }
    let name = String(path.split(separator: "/").last ?? "")
    try? FileIO.writeAtomically(directory: directory, name: name, Self.encode(compiled), mode: 0o600)
    return compiled
  }

  /// flags (4 bytes, little endian), needsListener (1 byte), then the BPF.
  static func encode(_ c: CompiledSeccomp) -> [UInt8] {
    [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: c.flags >> UInt32($0)) } + [c.needsListener ? 1 : 0] + c.bpf
  }

  static func decode(_ bytes: [UInt8]) -> CompiledSeccomp? {
    guard bytes.count > 5, (bytes.count - 5) % 8 == 0 else { return nil }
    let flags = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[$1]) << UInt32($1 * 8) }
    return CompiledSeccomp(bpf: Array(bytes[5...]), flags: flags, needsListener: bytes[4] == 1, skippedSyscalls: [])
  }
}
