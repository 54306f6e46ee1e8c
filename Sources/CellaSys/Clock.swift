import Glibc

/// The current time in RFC 3339, UTC: with nanoseconds (as runc prints `created`), or whole seconds.
public func rfc3339Now(nanoseconds: Bool = true) -> String {
  var ts = timespec()
  clock_gettime(CLOCK_REALTIME, &ts)
  var t = time_t(ts.tv_sec)
  var tmv = tm()
  gmtime_r(&t, &tmv)
  func pad(_ v: Int32, _ w: Int) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, w - s.count)) + s
  }
  let seconds =
    "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
    + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2))"
  guard nanoseconds else { return seconds + "Z" }
  let nanos = String(ts.tv_nsec)
  return seconds + "." + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
}
