/// The one error type of CellaOCI.
///
/// `message` is a single line that names the file and the field at fault, e.g.
/// `config.json: linux.namespaces[2].type: unknown namespace "bogus"`.
public struct OCIError: Error, CustomStringConvertible, Sendable, Equatable {
  public let message: String

  public init(_ message: String) {
    self.message = Self.oneLine(message)
  }

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

  public init(message: String) {
    self.init(message)
  }

  public var description: String { message }
}
