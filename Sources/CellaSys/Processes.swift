import CShims
import Glibc

/// Facts about a process read from /proc.
public struct ProcStat: Sendable, Equatable {
  public let pid: Int32
  /// Single-letter state (R, S, D, Z, T, ...).
  public let state: Character
  public let parentPID: Int32
  /// Start time in clock ticks since boot; with the pid it names one process across pid reuse.
  public let startTime: UInt64

  /// Reads /proc/PID/stat; nil if the process does not exist.
  public static func read(_ pid: Int32) -> ProcStat? {
    guard pid > 0, let bytes = try? FileIO.read("/proc/\(pid)/stat") else { return nil }
    // The command name is in parentheses and may contain spaces; fields resume after the last ')'.
    guard let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 <= bytes.count else { return nil }
    let rest = String(decoding: bytes[(close + 2)...], as: UTF8.self).split(separator: " ")
    guard rest.count > 19, let state = rest[0].first, let ppid = Int32(rest[1]), let start = UInt64(rest[19]) else {
      return nil
    }
    return ProcStat(pid: pid, state: state, parentPID: ppid, startTime: start)
  }
}

/// Process helpers.
public enum Processes {
  /// Whether the process `pid` started at `startTime` still runs (and is not a zombie).
  public static func isRunning(pid: Int32, startTime: UInt64) -> Bool {
    guard let st = ProcStat.read(pid) else { return false }
    return st.startTime == startTime && st.state != "Z" && st.state != "X"
  }

  /// Number of threads of the calling process (DESIGN.md decision 1 requires 1 before clone).
  public static func threadCount() -> Int {
    guard let text = try? FileIO.readString("/proc/self/status") else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
      return Int(line.dropFirst(8).trimmingCharacters(in: " \t")) ?? -1
    }
    return -1
  }

  /// waitpid that retries on EINTR; returns the raw status.
  public static func wait(_ pid: Int32, options: Int32 = 0) throws(SysError) -> Int32 {
    var status: Int32 = 0
    try sys("waitpid") { waitpid(pid, &status, options) }
    return status
  }

  /// Exit code in shell convention: the code, or 128 + signal.
  public static func exitCode(status: Int32) -> Int32 {
    if cella_wifexited(status) != 0 { return cella_wexitstatus(status) }
    if cella_wifsignaled(status) != 0 { return 128 + cella_wtermsig(status) }
    return 255
  }

  /// All numeric entries of /proc.
  public static func allPIDs() -> [Int32] {
    ((try? FileIO.listDirectory("/proc")) ?? []).compactMap { Int32($0) }
  }

  /// The inode identity of /proc/PID/ns/KIND ("pid:[4026531836]"), or nil.
  public static func namespaceLink(pid: Int32, kind: String) -> String? {
    InRoot.readLink(dirfd: AT_FDCWD, "/proc/\(pid)/ns/\(kind)")
  }
}

extension StringProtocol {
  /// Drops the given characters from both ends.
  public func trimmingCharacters(in set: String) -> String {
    var s = Substring(self)
    while let c = s.first, set.contains(c) { s = s.dropFirst() }
    while let c = s.last, set.contains(c) { s = s.dropLast() }
    return String(s)
  }
}
