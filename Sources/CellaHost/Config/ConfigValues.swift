import CellaErrors
import CellaOCI
import CellaSys
import Glibc

/// The grammars of config values: each returns the parsed value, or nil when `text` is not one.
/// The key table (`ConfigKeys`) words the error; `EffectiveConfig` reads values through the same
/// functions, so a value is read the way it was checked.
public enum ConfigValues {
  /// `true` or `false`, nothing else (YAML's yes/on spellings would surprise a reader of `config show`).
  public static func bool(_ text: String) -> Bool? {
    switch text {
    case "true": return true
    case "false": return false
    default: return nil
    }
  }

  /// A decimal integer (optional leading `-`) inside `range`.
  public static func integer(_ text: String, in range: ClosedRange<Int64>) -> Int64? {
    let body = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    guard !body.isEmpty, body.utf8.count <= 19, body.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
      let n = Int64(text), range.contains(n)
    else { return nil }
    return n
  }

  /// The CFS period every guest's `limits.cpu` is a share of, in microseconds.
  public static let cpuPeriod: UInt64 = 100_000
  /// The smallest quota the kernel takes (1 ms), so the smallest `limits.cpu` is 0.01 cores.
  public static let cores: ClosedRange<Double> = 0.01...10_000

  /// Cores as `limits.cpu` takes them (`0.5`, `2`, `1.25`) → the CFS quota per `cpuPeriod`, in µs.
  public static func cpuQuota(_ text: String) -> Int64? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count),
      parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
      parts[0].utf8.count <= 6, parts.count == 1 || parts[1].utf8.count <= 5,
      let cores = Double(text), self.cores.contains(cores)
    else { return nil }
    return Int64((cores * Double(cpuPeriod)).rounded())
  }

  /// `limits.cpu.weight` (cgroup v2's cpu.weight, 1–10000) → the cpu.shares that the runtime maps back
  /// to exactly this weight on v2 (CellaCgroups' `sharesToWeight`) and writes as such on v1.
  public static func cpuShares(weight: UInt64) -> UInt64 {
    let w = min(max(weight, 1), 10_000)
    return 2 + ((w - 1) * 262_142 + 9_998) / 9_999
  }

  /// An environment variable name: a letter or `_`, then letters, digits and `_`.
  public static func isEnvironmentName(_ name: String) -> Bool {
    guard let first = name.utf8.first, !(first >= 48 && first <= 57) else { return false }
    return name.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") }
  }

  /// The longest hostname the kernel keeps (`__NEW_UTS_LEN`).
  public static let maxHostname = 64

  /// A DNS name (dot-separated labels of letters, digits and `-`, none starting or ending with `-`)
  /// that fits the kernel's hostname.
  public static func isHostname(_ name: String) -> Bool {
    guard !name.isEmpty, name.utf8.count <= maxHostname else { return false }
    return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
      guard let first = label.utf8.first, let last = label.utf8.last, label.utf8.count <= 63 else { return false }
      return first != UInt8(ascii: "-") && last != UInt8(ascii: "-")
        && label.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
    }
  }

  /// A signal name or number as `kill` takes it (`TERM`, `SIGUSR2`, `15`, `RTMIN+3`).
  public static func signal(_ text: String) -> Int32? { Signals.parse(text) }

  /// An absolute path without `.` or `..` components, repeated or trailing slashes; nil otherwise.
  public static func cleanAbsolutePath(_ text: String) -> String? {
    guard text.hasPrefix("/"), !text.utf8.contains(0) else { return nil }
    let parts = text.split(separator: "/", omittingEmptySubsequences: true)
    guard parts.allSatisfy({ $0 != "." && $0 != ".." }) else { return nil }
    return "/" + parts.joined(separator: "/")
  }

  /// Why `path` cannot be a directory bound into guests, or nil when it is one.
  public static func hostDirectoryProblem(_ path: String) -> String? {
    guard cleanAbsolutePath(path) != nil else { return "\(quote(path)) is not a clean absolute path" }
    var st = stat()
    guard stat(path, &st) == 0 else { return "\(quote(path)): \(ErrorText.errno(errno))" }
    guard (st.st_mode & S_IFMT) == S_IFDIR else { return "\(quote(path)) is not a directory" }
    return nil
  }

  /// Why `path` is not an existing regular file given as a clean absolute path (a VM's kernel or disk).
  public static func hostFileProblem(_ path: String) -> String? {
    guard cleanAbsolutePath(path) != nil else { return "\(quote(path)) is not a clean absolute path" }
    var st = stat()
    guard stat(path, &st) == 0 else { return "\(quote(path)): \(ErrorText.errno(errno))" }
    guard (st.st_mode & S_IFMT) == S_IFREG else { return "\(quote(path)) is not a regular file" }
    return nil
  }

  /// A `serial.N` value: the guest console, a host serial device, or nothing.
  public enum Serial: Sendable, Equatable {
    case console
    case host(String)
    case none
  }

  /// Parses `console`, `none` or `host:/dev/PATH`.
  public static func serial(_ text: String) -> Serial? {
    switch text {
    case "console": return .console
    case "none": return Serial.none
    default:
      guard text.hasPrefix("host:") else { return nil }
      let path = String(text.dropFirst(5))
      guard let clean = cleanAbsolutePath(path), clean.hasPrefix("/dev/") else { return nil }
      return .host(clean)
    }
  }

  /// Why `text` is not a `serial.N` value.
  public static func serialProblem(_ text: String) -> String? {
    serial(text) == nil ? "\(quote(text)) is not console, none or host:/dev/PATH" : nil
  }

  /// Guest paths a disk may not cover: the runtime mounts its own filesystems there.
  public static let reservedGuestPaths = ["/proc", "/sys", "/dev"]

  /// Why `path` cannot be where a disk appears in a guest, or nil when it can.
  public static func guestPathProblem(_ path: String) -> String? {
    guard let clean = cleanAbsolutePath(path) else { return "\(quote(path)) is not a clean absolute path" }
    if clean == "/" { return "\(quote(path)) would cover the guest's whole root" }
    if let r = reservedGuestPaths.first(where: { clean == $0 || clean.hasPrefix($0 + "/") }) {
      return "\(quote(path)) is under \(r), which the guest's runtime mounts itself"
    }
    return nil
  }

  /// The largest seccomp profile file read.
  static let maxProfileBytes = 1 << 20

  /// The OCI `linux.seccomp` object in the file at `path`; the error names the file and the field.
  public static func seccompProfile(at path: String) throws(HostError) -> LinuxSeccomp {
    guard cleanAbsolutePath(path) != nil else {
      throw HostError(.invalidArgument, "\(quote(path)) is not default, strict or an absolute path")
    }
    let bytes: [UInt8]
    do {
      bytes = try FileIO.read(path, limit: maxProfileBytes + 1)
    } catch {
      throw HostError(error.kind, "seccomp profile \(error.message)")
    }
    if bytes.count > maxProfileBytes {
      throw HostError(.invalidArgument, "\(path): larger than \(ByteSize.format(UInt64(maxProfileBytes)))")
    }
    let profile: LinuxSeccomp
    do {
      profile = try OCIJSON.decode(LinuxSeccomp.self, from: bytes, file: path)
    } catch {
      throw HostError(.invalidArgument, error.message)
    }
    if let problem = SpecValidator.seccompProblem(profile) {
      let field = problem.field.replacingPrefix("linux.seccomp", with: "")
      throw HostError(.invalidArgument, "\(path): \(field.isEmpty ? "" : field + ": ")\(problem.text)")
    }
    return profile
  }

  /// `text` in double quotes with `"` and `\` escaped, for error lines.
  public static func quote(_ text: String) -> String {
    var out = "\""
    for ch in text {
      switch ch {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default: out.append(ch)
      }
    }
    return out + "\""
  }

  private static func isAlnum(_ b: UInt8) -> Bool {
    (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
  }
}

extension String {
  fileprivate func replacingPrefix(_ prefix: String, with new: String) -> String {
    guard hasPrefix(prefix) else { return self }
    var rest = String(dropFirst(prefix.count))
    if rest.hasPrefix(".") { rest.removeFirst() }
    return new + rest
  }
}
