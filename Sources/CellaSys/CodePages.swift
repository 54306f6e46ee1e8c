import Glibc

/// Gives back the resident code pages of this program's own file (a long-running daemon keeps mapped
/// only the code it runs again afterwards).
public enum CodePages {
  /// Unmaps the resident pages of the executable (`r-x`) mappings of `/proc/self/exe`
  /// (`MADV_DONTNEED`): they stay in the page cache, and a page used again comes back with a minor
  /// fault. Only code: a read-only data mapping may hold relocated (private, written) pages that the
  /// file cannot give back. Returns how many bytes of mappings were advised.
  @discardableResult
  public static func release() -> Int {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0, let maps = try? FileIO.readString("/proc/self/maps") else { return 0 }
    let exe = String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var advised = 0
    for line in maps.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 6, fields[5] == exe, fields[1] == "r-xp" else { continue }
      let range = fields[0].split(separator: "-")
      guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
        let pointer = UnsafeMutableRawPointer(bitPattern: start)
      else { continue }
      if madvise(pointer, Int(end - start), MADV_DONTNEED) == 0 { advised += Int(end - start) }
    }
    return advised
  }
}
