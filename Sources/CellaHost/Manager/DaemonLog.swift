import Foundation
import Synchronization

/// The daemon's log: one line per event on stderr (and whatever the service manager keeps of it).
public final class DaemonLog: Sendable {
  private let lock = Mutex<Void>(())
  private let quiet: Bool

  public init(quiet: Bool = false) { self.quiet = quiet }

  /// Logs one line with a timestamp and a level.
  public func info(_ message: String) { write("info", message) }
  public func warning(_ message: String) { write("warning", message) }
  public func error(_ message: String) { write("error", message) }

  private func write(_ level: String, _ message: String) {
    guard !quiet else { return }
    let line = "\(Timestamp.now()) \(level) \(message.replacingOccurrences(of: "\n", with: " "))\n"
    lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
  }
}
