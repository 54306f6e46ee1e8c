/// Which `ociVersion` values this runtime accepts: 1.0.0 up to any 1.3.x,
/// with optional pre-release or build suffixes ("1.0.2-dev", "1.1.0-rc.1").
public enum OCIVersion {
  /// The version this library models and writes.
  public static let current = "1.3.0"
  /// The lowest accepted version.
  public static let minimum = "1.0.0"
  /// The highest accepted version, as shown in messages and features.json.
  public static let maximum = "1.3.x"
  /// The concrete maximum for features.json `ociVersionMax`.
  public static let maximumConcrete = "1.3.0"

  /// Parsed `major.minor.patch` with the suffix after `-` or `+` (empty when none).
  public struct Parts: Sendable, Equatable {
    public var major: Int
    public var minor: Int
    public var patch: Int
    public var suffix: String

    public init(major: Int, minor: Int, patch: Int, suffix: String = "") {
      self.major = major
      self.minor = minor
      self.patch = patch
      self.suffix = suffix
    }
  }

  /// Parses a semantic version; nil when it is not `N.N.N[-pre][+build]`.
  public static func parse(_ version: String) -> Parts? {
    var core = Substring(version)
    var suffix = ""
    if let i = core.firstIndex(where: { $0 == "-" || $0 == "+" }) {
      suffix = String(core[i...])
      core = core[..<i]
      if suffix.count < 2 { return nil }
      let allowed = suffix.dropFirst().allSatisfy {
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "+")
      }
      if !allowed { return nil }
    }
    let fields = core.split(separator: ".", omittingEmptySubsequences: false)
    guard fields.count == 3 else { return nil }
    var numbers: [Int] = []
    for field in fields {
      guard !field.isEmpty, field.count <= 9, field.allSatisfy({ $0.isASCII && $0.isNumber }),
        let n = Int(field)
      else { return nil }
      if field.count > 1 && field.first == "0" { return nil }
      numbers.append(n)
    }
    return Parts(major: numbers[0], minor: numbers[1], patch: numbers[2], suffix: suffix)
  }

  /// True for 1.0.0 through 1.3.x.
  public static func isSupported(_ version: String) -> Bool {
    guard let parts = parse(version) else { return false }
    return parts.major == 1 && parts.minor <= 3
  }

  /// Throws `<file>: ociVersion: unsupported version "2.0.0" (supported 1.0.0 to 1.3.x)`.
  public static func check(_ version: String, file: String = "config.json") throws(OCIError) {
    if version.isEmpty {
      throw OCIError("\(file): ociVersion: missing (set it to \"\(current)\")")
    }
    guard isSupported(version) else {
      throw OCIError(
        "\(file): ociVersion: unsupported version \(quote(version)) (supported \(minimum) to \(maximum))")
    }
  }
}

/// Quotes a value for an error message, escaping what would break one line.
func quote(_ s: String) -> String { jsonQuote(s) }
