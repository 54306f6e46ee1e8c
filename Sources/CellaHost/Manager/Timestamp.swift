import CellaSys
import Glibc

/// RFC 3339 UTC timestamps, the one format the manager writes.
enum Timestamp {
  /// Now, e.g. `2026-12-03T21:14:05Z`.
  static func now() -> String { rfc3339Now(nanoseconds: false) }

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
