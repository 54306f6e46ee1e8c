import CellaSys

/// The host's TSC frequency for `tsc_early_khz=`: microvm under TCG has neither HPET nor ACPI PM timer, and the
/// guest's calibration against the PIT alone sometimes fails on a loaded host and hangs the boot.
public enum HostTSC {
  /// kHz from the first "cpu MHz" line of /proc/cpuinfo text, or nil when there is none.
  public static func kHz(cpuinfo: String) -> Int? {
    for line in cpuinfo.split(separator: "\n") {
      let halves = line.split(separator: ":", maxSplits: 1)
      guard halves.count == 2, halves[0].trimmingSpaces == "cpu MHz" else { continue }
      guard let mhz = Double(halves[1].trimmingSpaces), mhz.isFinite, mhz > 0, mhz < 1_000_000 else { return nil }
      return Int((mhz * 1000).rounded())
    }
    return nil
  }

  /// kHz read from /proc/cpuinfo.
  public static func kHz() throws(VMError) -> Int {
    let text: String
    do { text = try FileIO.readString("/proc/cpuinfo") } catch { throw VMError(error.kind, error.message) }
    guard let khz = kHz(cpuinfo: text) else {
      throw VMError(.unsupported, "/proc/cpuinfo: no \"cpu MHz\" line to take the guest's TSC frequency from")
    }
    return khz
  }
}

extension Substring {
  fileprivate var trimmingSpaces: Substring {
    var s = self
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return s
  }
}
