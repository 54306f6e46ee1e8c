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

  /// Seconds from a timestamp `now()` wrote until now; nil when it does not parse.
  static func seconds(since text: String) -> Double? {
    let parts = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int32($0) }
    guard text.utf8.count == 20, parts.count == 6 else { return nil }
    var tmv = tm()
    tmv.tm_year = parts[0] - 1900
    tmv.tm_mon = parts[1] - 1
    tmv.tm_mday = parts[2]
    tmv.tm_hour = parts[3]
    tmv.tm_min = parts[4]
    tmv.tm_sec = parts[5]
    return difftime(time(nil), timegm(&tmv))
  }
}
