import Glibc

/// Signal names and numbers as `kill` accepts them (KILL, SIGKILL, 9).
public enum Signals {
  /// Name (without SIG) to number, for the signals Linux defines on x86_64 and arm64.
  public static let table: [(String, Int32)] = [
    ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("IOT", 6), ("BUS", 7),
    ("FPE", 8), ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13), ("ALRM", 14),
    ("TERM", 15), ("STKFLT", 16), ("CHLD", 17), ("CONT", 18), ("STOP", 19), ("TSTP", 20), ("TTIN", 21),
    ("TTOU", 22), ("URG", 23), ("XCPU", 24), ("XFSZ", 25), ("VTALRM", 26), ("PROF", 27), ("WINCH", 28),
    ("IO", 29), ("POLL", 29), ("PWR", 30), ("SYS", 31),
  ]

  /// Parses "KILL", "SIGKILL", "kill", "9", "RTMIN+3"; nil when unknown.
  public static func parse(_ text: String) -> Int32? {
    if let n = Int32(text) { return (1...64).contains(n) ? n : nil }
    var name = text.uppercased()
    if name.hasPrefix("SIG") { name.removeFirst(3) }
    if let hit = table.first(where: { $0.0 == name }) { return hit.1 }
    let rtmin: Int32 = 34
    let rtmax: Int32 = 64
    if name == "RTMIN" { return rtmin }
    if name == "RTMAX" { return rtmax }
    // k is checked before the arithmetic: RTMIN+2147483647 must be unknown, not an overflow.
    if name.hasPrefix("RTMIN+"), let k = Int32(name.dropFirst(6)), (0...(rtmax - rtmin)).contains(k) {
      return rtmin + k
    }
    if name.hasPrefix("RTMAX-"), let k = Int32(name.dropFirst(6)), (0...(rtmax - rtmin)).contains(k) {
      return rtmax - k
    }
    return nil
  }
}
