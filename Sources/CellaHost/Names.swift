/// The rule every guest, image and profile name follows: a DNS label, so a guest's name can be its
/// hostname and its DNS name on a cella network.
public enum Names {
  /// The longest name (a DNS label).
  public static let maxLength = 63

  /// Throws `invalid-argument` naming `what` ("guest", "image", "profile") when `name` is not a DNS label:
  /// 1–63 of `a-z`, `0-9` and `-`, not starting or ending with `-`.
  public static func check(_ name: String, as what: String) throws(HostError) {
    let bytes = Array(name.utf8)
    let shown = name.count > 80 ? String(name.prefix(80)) + "…" : name
    guard !bytes.isEmpty else { throw HostError(.invalidArgument, "\(what) name is empty") }
    guard bytes.count <= maxLength else {
      throw HostError(.invalidArgument, "\(what) name \"\(shown)\" is longer than \(maxLength) characters")
    }
    for b in bytes {
      let ok =
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
        || b == UInt8(ascii: "-")
      guard ok else {
        throw HostError(
          .invalidArgument,
          "\(what) name \"\(shown)\" is not a DNS label: use lowercase letters, digits and '-'")
      }
    }
    if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
      throw HostError(.invalidArgument, "\(what) name \"\(shown)\" may not start or end with '-'")
    }
  }
}
