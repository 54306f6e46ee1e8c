/// QEMU's comma-separated option strings (`-drive file=…,format=…`).
public enum QEMUOption {
  /// `value` made safe inside an option string: QEMU reads ",," as a literal comma, so a value can never end
  /// its own key and start another.
  public static func escape(_ value: String) -> String {
    var out = ""
    out.reserveCapacity(value.utf8.count)
    for c in value {
      out.append(c)
      if c == "," { out.append(",") }
    }
    return out
  }

  /// `head` (the option's type, a constant) followed by `key=value` pairs, every value escaped.
  public static func join(_ head: String, _ pairs: KeyValuePairs<String, String>) -> String {
    ([head] + pairs.map { "\($0.key)=\(escape($0.value))" }).joined(separator: ",")
  }
}
