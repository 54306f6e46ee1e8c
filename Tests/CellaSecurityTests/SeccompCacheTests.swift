import CellaOCI
import Foundation
import XCTest

@testable import CellaSecurity

/// The compiled-filter cache: a hit returns the stored filter, and an entry counts only for the profile
/// stored in it (hash collisions, damaged or foreign files are misses).
final class SeccompCacheTests: XCTestCase {
  private var dir = ""

  override func setUp() {
    super.setUp()
    dir = NSTemporaryDirectory() + "cella-seccomp-cache-\(UUID().uuidString)"
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: dir)
    super.tearDown()
  }

  private let notifyMkdir = LinuxSeccomp(
    defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x",
    syscalls: [LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
  private let denyChmod = LinuxSeccomp(
    defaultAction: "SCMP_ACT_ALLOW", syscalls: [LinuxSyscall(names: ["chmod", "fchmod"], action: "SCMP_ACT_ERRNO")])

  private func entries() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }

  func testASecondCompileIsServedFromTheCacheWithFlagsAndListenerBit() throws {
    let cache = SeccompCache(directory: dir)
    let first = try cache.compile(notifyMkdir)
    XCTAssertEqual(entries().count, 1)
    // Mark the stored BPF: a hit must return exactly what the entry holds.
    let path = "\(dir)/\(entries()[0])"
    var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path)).map { $0 }
    bytes[bytes.count - 1] ^= 0xff
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let second = try cache.compile(notifyMkdir)
    XCTAssertEqual(second.bpf.dropLast(), first.bpf.dropLast())
    XCTAssertEqual(second.bpf.last, first.bpf.last.map { $0 ^ 0xff }, "not served from the cache")
    XCTAssertEqual(second.flags, first.flags)
    XCTAssertTrue(second.needsListener)
  }

  func testProfilesWhoseNamesCollideNeverGetEachOthersFilter() throws {
    let cache = SeccompCache(directory: dir, hash: { _ in 42 })
    let notify = try SeccompCompiler.compile(notifyMkdir)
    let deny = try SeccompCompiler.compile(denyChmod)
    XCTAssertNotEqual(notify.bpf, deny.bpf)
    for (round, profile) in [notifyMkdir, denyChmod, notifyMkdir, notifyMkdir, denyChmod].enumerated() {
      let got = try cache.compile(profile)
      let want = profile == notifyMkdir ? notify : deny
      XCTAssertEqual(got.bpf, want.bpf, "round \(round)")
      XCTAssertEqual(got.needsListener, want.needsListener, "round \(round)")
      XCTAssertEqual(entries().count, 1, "both profiles share one name")
    }
  }

  func testDamagedEntriesAreMissesNotCrashes() throws {
    let cache = SeccompCache(directory: dir)
    let good = try cache.compile(denyChmod)
    let path = "\(dir)/\(entries()[0])"
    let whole = try XCTUnwrap(FileManager.default.contents(atPath: path)).map { $0 }
    let canonical = SeccompCache.canonicalBytes(denyChmod)
    XCTAssertNotNil(SeccompCache.decode(whole, profile: canonical))
    // Every cut, including those that leave whole BPF instructions, and trailing garbage.
    var damaged =
      (0..<whole.count).map { Array(whole.prefix($0)) } + [whole + [0], whole + Array(repeating: 0, count: 8)]
    // A profile length far past the end, and a flipped byte inside the stored profile.
    var huge = whole
    huge.replaceSubrange(
      SeccompCache.magic.count..<SeccompCache.magic.count + 4, with: [0xff, 0xff, 0xff, 0xff])
    var flipped = whole
    flipped[SeccompCache.magic.count + 4 + canonical.count / 2] ^= 0x20
    damaged += [huge, flipped]
    for (i, bytes) in damaged.enumerated() {
      XCTAssertNil(SeccompCache.decode(bytes, profile: canonical), "variant \(i) (\(bytes.count) bytes) decoded")
    }
    for bytes in [Array(whole.prefix(whole.count - 8)), flipped, []] {
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      XCTAssertEqual(try cache.compile(denyChmod).bpf, good.bpf)
      // The miss rewrote the entry.
      XCTAssertEqual(try XCTUnwrap(FileManager.default.contents(atPath: path)).map { $0 }, whole)
    }
  }
}
