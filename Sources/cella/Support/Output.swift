import CellaAPI
import FoundationEssentials
import Glibc

/// What the CLI prints: aligned tables, JSON, `key: value` lists.
enum Output {
  /// Pretty JSON with sorted keys.
  static func json<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
  }

  /// Columns padded to their widest cell; the last column is not padded.
  static func table(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    for row in all {
      var line = ""
      for (i, cell) in row.enumerated() {
        line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
      }
      print(line)
    }
  }

  /// Raw bytes to stdout (console output, logs).
  static func write(_ bytes: [UInt8], to fd: Int32 = 1) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      offset += n
    }
  }

  /// A human line for a guest's last exit.
  static func describe(_ exit: ExitInfo) -> String {
    var parts = [exit.reason.rawValue]
    if let code = exit.code { parts.append("code \(code)") }
    if let signal = exit.signal { parts.append("signal \(signal)") }
    return parts.joined(separator: ", ") + " at " + exit.time
  }
}
