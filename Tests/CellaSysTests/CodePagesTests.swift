import CellaSys
import Glibc
import XCTest

/// A daemon can hand back its resident code pages and go on running.
final class CodePagesTests: XCTestCase {
  /// Resident KiB of the test binary's executable mappings.
  func residentCode() -> Int {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    let exe = String(decoding: buf.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let smaps = try? FileIO.readString("/proc/self/smaps") else { return 0 }
    var total = 0
    var inCode = false
    for line in smaps.split(separator: "\n") {
      let f = line.split(separator: " ", omittingEmptySubsequences: true)
      if f.count >= 5, f[0].contains("-"), f[1].count == 4 {
        inCode = f.count >= 6 && f[5] == exe && f[1] == "r-xp"
      } else if inCode, f.first == "Rss:", f.count > 1, let kb = Int(f[1]) {
        total += kb
      }
    }
    return total
  }

  func testReleasedCodePagesLeaveTheMappingAndComeBackWhenRun() {
    let before = residentCode()
    XCTAssertGreaterThan(CodePages.release(), 0, "the test binary has code mappings")
    let after = residentCode()
    XCTAssertLessThan(after, before, "resident code went down (\(before) KiB -> \(after) KiB)")
    // Still running: the code this test runs next faults back in.
    XCTAssertEqual([3, 1, 2].sorted(), [1, 2, 3])
  }
}
