import CellaOCI
import CellaSys
import Glibc

/// runc-compatible logging: `--log FILE` (default stderr) in `text` or `json` format, `--debug` for detail.
///
/// Containerd and podman read the JSON lines (`{"level":"error","msg":…,"time":…}`) to report our errors.
public struct Logger: Sendable {
  public enum Format: String, Sendable { case text, json }
  public enum Level: String, Sendable { case debug, info, warning, error }

  public let path: String?
  public let format: Format
  public let debug: Bool

  public init(path: String? = nil, format: Format = .text, debug: Bool = false) {
    self.path = path
    self.format = format
    self.debug = debug
  }

  public func debug(_ message: @autoclosure () -> String) { if debug { write(.debug, message()) } }

  /// A debug line with the milliseconds since the process started (for finding where time goes).
  public func step(_ name: @autoclosure () -> String) {
    guard debug else { return }
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    let now = Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    let start = processStartMillis()
    write(.debug, "\(name()) at +\(Int((now - start) * 1000) / 1000).\(Int((now - start) * 1000) % 1000) ms")
  }
  public func warning(_ message: String) { write(.warning, message) }
  public func error(_ message: String) { write(.error, message) }

  /// Writes one line to the log file (or stderr when there is none).
  public func write(_ level: Level, _ message: String) {
    let line: String
    switch format {
    case .json:
      line = "{\"level\":\"\(level.rawValue)\",\"msg\":\(jsonQuote(message)),\"time\":\"\(rfc3339Now())\"}\n"
    case .text:
      line = "time=\"\(rfc3339Now())\" level=\(level.rawValue) msg=\(jsonQuote(message))\n"
    }
    let bytes = Array(line.utf8)
    if let path {
      let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
      if fd >= 0 {
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return
      }
    }
    if path == nil && level != .error {
      _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
  }
}

/// The calling process's start time on the monotonic clock, in milliseconds (from /proc/self/stat).
func processStartMillis() -> Double {
  guard let stat = ProcStat.read(getpid()) else { return 0 }
  // A tick rate sysconf cannot give would make the division infinite and Int(...) in step() trap.
  let ticks = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
  return Double(stat.startTime) / ticks * 1000
}
