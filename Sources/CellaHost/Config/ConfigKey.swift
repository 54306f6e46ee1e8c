import CellaAPI

/// One row of the config key table: a key or a `<NAME>` pattern, its value type, the guest kinds it
/// applies to, its default and a one-line doc (what `cella config keys` and Docs/manager.md show).
public struct ConfigKey: Sendable {
  /// The key, or a pattern with one `<…>` part (`environment.<NAME>`, `disk.<NAME>.source`, `nic.<N>.network`).
  public let name: String
  /// The value's type in words (`size`, `cores`, `bool`, ...).
  public let type: String
  /// The guest kinds the key has an effect on.
  public let kinds: Set<GuestKind>
  /// The value in effect when no layer sets the key, when there is one.
  public let defaultValue: String?
  /// One line for people.
  public let doc: String
  /// Why a NAME in a pattern is not valid, nil when it is.
  let nameProblem: (@Sendable (String) -> String?)?
  /// Why a value is not valid (the text after `KEY: `), nil when it is.
  let valueProblem: @Sendable (String) -> String?
  /// The check of a VM guest's value, where it differs (a disk's source is an image file, not a directory).
  let vmValueProblem: (@Sendable (String) -> String?)?
  /// For a value that names a host file: the check of its spelling alone. A stored guest or profile is
  /// read with it, so a file that went away later never makes the guest unreadable (or undeletable);
  /// create, config changes and starts check the file itself.
  let shapeProblem: (@Sendable (String) -> String?)?

  init(
    _ name: String, _ type: String, kinds: Set<GuestKind> = [.container, .vm], default defaultValue: String? = nil,
    doc: String, name nameProblem: (@Sendable (String) -> String?)? = nil,
    check valueProblem: @escaping @Sendable (String) -> String?, vmCheck: (@Sendable (String) -> String?)? = nil,
    shape: (@Sendable (String) -> String?)? = nil
  ) {
    self.vmValueProblem = vmCheck
    self.shapeProblem = shape
    self.name = name
    self.type = type
    self.kinds = kinds
    self.defaultValue = defaultValue
    self.doc = doc
    self.nameProblem = nameProblem
    self.valueProblem = valueProblem
  }

  /// Why `value` is not valid for a guest of `kind` (nil: a profile, valid when either kind takes it);
  /// without `host`, a value naming a host file is checked by its spelling only.
  func problem(_ value: String, kind: GuestKind?, host: Bool = true) -> String? {
    if !host, let shapeProblem { return shapeProblem(value) }
    guard let vmValueProblem else { return valueProblem(value) }
    switch kind {
    case .container: return valueProblem(value)
    case .vm: return vmValueProblem(value)
    case nil:
      guard let first = valueProblem(value) else { return nil }
      return vmValueProblem(value) == nil ? nil : first
    }
  }

  /// Whether `name` has a `<…>` part.
  public var isPattern: Bool { wildcard != nil }

  /// Where the `<…>` part of a pattern is.
  private var wildcard: Range<String.Index>? {
    guard let open = name.firstIndex(of: "<"), let close = name[open...].firstIndex(of: ">") else { return nil }
    return open..<name.index(after: close)
  }

  /// The text before and after the `<…>` part (the whole name and "" for a plain key).
  var affixes: (prefix: String, suffix: String) {
    guard let r = wildcard else { return (name, "") }
    return (String(name[..<r.lowerBound]), String(name[r.upperBound...]))
  }

  /// NAME when `key` has this pattern's shape (whatever NAME is), nil otherwise.
  func patternName(in key: String) -> String? {
    guard isPattern else { return nil }
    let (prefix, suffix) = affixes
    guard key.utf8.count > prefix.utf8.count + suffix.utf8.count, key.hasPrefix(prefix), key.hasSuffix(suffix) else {
      return nil
    }
    return String(key.dropFirst(prefix.count).dropLast(suffix.count))
  }

  /// This row spelled for `key`: the pattern with NAME taken from `key`'s dot-separated parts, for
  /// the nearest-key suggestion (`disk.data.sorce` → `disk.data.source`).
  func candidate(for key: String) -> String {
    guard isPattern else { return name }
    let (prefix, suffix) = affixes
    let before = prefix.split(separator: ".").count
    let after = suffix.split(separator: ".").count
    let parts = key.split(separator: ".", omittingEmptySubsequences: false)
    let guess: String
    if parts.count > before + after {
      guess = parts[before..<(parts.count - after)].joined(separator: ".")
    } else if parts.count > before {
      guess = String(parts[before])
    } else {
      guess = "NAME"
    }
    return prefix + guess + suffix
  }
}
