/// The host end of a guest NIC: `cv` and 8 hex digits, fresh for every run (the kernel's 15 bytes are no
/// limit; a fixed name could meet a pair a dying namespace has not released yet).
enum GuestLinkName {
  static let prefix = "cv"

  /// A new name for a run's host end.
  static func fresh() -> String { prefix + String(UInt32.random(in: 0...UInt32.max) | 0x1000_0000, radix: 16) }

  /// Whether `name` is one `fresh` makes: only such links are ever deleted or filtered as a guest's.
  static func isDerived(_ name: String) -> Bool {
    name.hasPrefix(prefix) && name.utf8.count == prefix.utf8.count + 8
      && name.dropFirst(prefix.count).allSatisfy { $0.isHexDigit && !$0.isUppercase }
  }
}
