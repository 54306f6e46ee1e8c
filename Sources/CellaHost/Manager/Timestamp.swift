import Glibc

/// RFC 3339 UTC timestamps, the one format the manager writes.
enum Timestamp {
  /// Now, e.g. `2026-12-03T21:14:05Z`.
  static func now() -> String {
    var t = time(nil)
    var tmv = tm()
    gmtime_r(&t, &tmv)
    var buf = [CChar](repeating: 0, count: 32)
    let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tmv)
    return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
