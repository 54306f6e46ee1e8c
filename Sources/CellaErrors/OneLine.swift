import Glibc

/// Error text helpers every module's error type shares.
public enum ErrorText {
  /// `message` with every line break folded into a space: each module's error type keeps the promise
  /// of one line through this, whatever a config value carried into the text.
  public static func oneLine(_ message: String) -> String {
    guard message.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return message }
    var line = ""
    line.reserveCapacity(message.utf8.count)
    for ch in message {
      if ch == "\n" || ch == "\r" || ch == "\r\n" {
        line.append(" ")
      } else {
        line.append(ch)
      }
    }
    while line.hasSuffix(" ") { line.removeLast() }
    return line
  }

  /// The lowercase strerror text of an errno value, as Go and Docker print it ("no such file or directory").
  public static func errno(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    let s = String(cString: text)
    guard let first = s.first else { return s }
    return first.lowercased() + s.dropFirst()
  }
}
