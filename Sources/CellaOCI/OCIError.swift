/// The one error type of CellaOCI.
///
/// `message` is a single line that names the file and the field at fault, e.g.
/// `config.json: linux.namespaces[2].type: unknown namespace "bogus"`.
public struct OCIError: Error, CustomStringConvertible, Sendable, Equatable {
  public let message: String

  public init(_ message: String) {
    // Keep the promise of one line: fold any newline a caller let through.
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
    self.message = line
  }

  public init(message: String) {
    self.init(message)
  }

  public var description: String { message }
}
