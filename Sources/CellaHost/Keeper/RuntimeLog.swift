import CellaErrors
import Foundation

/// The runtime's `--log-format json` log: where a failed create or start explains itself.
enum RuntimeLog {
  /// The file's size now, so that only what a later run appends is read.
  static func size(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : 0
  }

  /// The kind and text of the last `"level":"error"` line written after `offset`, if any.
  static func lastError(_ path: String, after offset: Int) -> (kind: ErrorKind?, message: String)? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.readToEnd() else { return nil }
    for line in data.split(separator: UInt8(ascii: "\n")).reversed() {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        object["level"] as? String == "error", let message = object["msg"] as? String
      else { continue }
      return ((object["kind"] as? String).flatMap(ErrorKind.init(rawValue:)), message)
    }
    return nil
  }
}
