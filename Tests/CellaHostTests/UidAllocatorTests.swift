import Foundation
import Synchronization
import XCTest

@testable import CellaHost

/// Host id ranges for userns guests: one per guest, recorded before use, never shared, freed at delete.
final class UidAllocatorTests: XCTestCase {
  func testRangesAreRecordedReusedAndFreed() throws {
    let dir = try TestDir()
    let a = UidAllocator(layout: StoreLayout(root: dir.path))
    let web = try a.allocate(for: "web")
    XCTAssertEqual(web, IDRange(first: 1_000_000, count: 65_536))
    XCTAssertEqual(try a.allocate(for: "web"), web)
    XCTAssertEqual(try a.allocate(for: "db"), IDRange(first: 1_065_536, count: 65_536))
    // Recorded in the store: a new allocator (another daemon) sees them.
    let again = UidAllocator(layout: StoreLayout(root: dir.path))
    XCTAssertEqual(try again.range(of: "db"), IDRange(first: 1_065_536, count: 65_536))
    XCTAssertTrue(try String(contentsOfFile: dir.path + "/uidmap.yaml", encoding: .utf8).contains("web:"))
    try again.free("web")
    XCTAssertNil(try a.range(of: "web"))
    // The freed range is handed out again.
    XCTAssertEqual(try a.allocate(for: "cache").first, 1_000_000)
    try a.free("never")
  }

  func testConcurrentAllocationsNeverShareARange() throws {
    let dir = try TestDir()
    let layout = StoreLayout(root: dir.path)
    let results = Mutex<[String: IDRange]>([:])
    DispatchQueue.concurrentPerform(iterations: 24) { i in
      // Separate allocators, as separate requests of the daemon or separate processes would be.
      let r = try? UidAllocator(layout: layout, first: 200_000, size: 1000).allocate(for: "g\(i)")
      results.withLock { $0["g\(i)"] = r }
    }
    let ranges = results.withLock { $0 }
    XCTAssertEqual(ranges.count, 24)
    let firsts = ranges.values.map(\.first)
    XCTAssertEqual(Set(firsts).count, 24)
    XCTAssertEqual(firsts.sorted(), (0..<24).map { 200_000 + UInt32($0) * 1000 })
    XCTAssertEqual(try UidAllocator(layout: layout).all(), ranges)
  }

  func testACorruptRecordIsLocated() throws {
    let dir = try TestDir()
    try "ranges:\n  web: {first: x, count: 1}\n".write(
      toFile: dir.path + "/uidmap.yaml", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try UidAllocator(layout: StoreLayout(root: dir.path)).allocate(for: "db")) {
      XCTAssertEqual(
        ($0 as? HostError)?.message, "\(dir.path)/uidmap.yaml:2:8: ranges.web: expected first and count, both numbers")
    }
  }
}
