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

  /// An entry for `profile` whose BPF is marked (last byte flipped), so a test can see whether it was served.
  private func markedEntry(_ profile: LinuxSeccomp) throws -> (bytes: [UInt8], marked: [UInt8]) {
    let compiled = try SeccompCompiler.compile(profile)
    var bpf = compiled.bpf
    bpf[bpf.count - 1] ^= 0xff
    let marked = CompiledSeccomp(
      bpf: bpf, flags: compiled.flags, needsListener: compiled.needsListener, skippedSyscalls: [])
    return (SeccompCache.encode(marked, profile: SeccompCache.canonicalBytes(profile)), bpf)
  }

  func testAGroupWritableCacheDirectoryIsNotUsed() throws {
    let cache = SeccompCache(directory: dir)
    XCTAssertEqual(mkdir(dir, 0o700), 0)
    let name = cache.entryName(SeccompCache.canonicalBytes(denyChmod))
    let entry = try markedEntry(denyChmod)
    try Data(entry.bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
    chmod("\(dir)/\(name)", 0o600)
    XCTAssertEqual(try cache.compile(denyChmod).bpf, entry.marked, "a sound cache serves the entry")
    XCTAssertEqual(chmod(dir, 0o770), 0)
    var warnings: [String] = []
    let got = try cache.compile(denyChmod) { warnings.append($0) }
    XCTAssertNotEqual(got.bpf, entry.marked, "served from a group-writable cache directory")
    XCTAssertEqual(got.bpf, try SeccompCompiler.compile(denyChmod).bpf)
    XCTAssertEqual(warnings.count, 1)
    XCTAssertTrue(warnings.first?.contains("writable by group or others") == true, "\(warnings)")
    XCTAssertEqual(try XCTUnwrap(FileManager.default.contents(atPath: "\(dir)/\(name)")).map { $0 }, entry.bytes)
  }

  func testAGroupWritableEntryIsNotUsed() throws {
    let cache = SeccompCache(directory: dir)
    XCTAssertEqual(mkdir(dir, 0o700), 0)
    let name = cache.entryName(SeccompCache.canonicalBytes(denyChmod))
    let entry = try markedEntry(denyChmod)
    try Data(entry.bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
    XCTAssertEqual(chmod("\(dir)/\(name)", 0o620), 0)
    var warnings: [String] = []
    XCTAssertNotEqual(try cache.compile(denyChmod) { warnings.append($0) }.bpf, entry.marked)
    XCTAssertEqual(warnings.count, 1, "\(warnings)")
  }

  func testASymlinkedEntryIsNotFollowed() throws {
    let cache = SeccompCache(directory: dir)
    XCTAssertEqual(mkdir(dir, 0o700), 0)
    let name = cache.entryName(SeccompCache.canonicalBytes(denyChmod))
    let entry = try markedEntry(denyChmod)
    let elsewhere = dir + "-elsewhere.bpf"
    defer { unlink(elsewhere) }
    try Data(entry.bytes).write(to: URL(fileURLWithPath: elsewhere))
    chmod(elsewhere, 0o600)
    XCTAssertEqual(symlink(elsewhere, "\(dir)/\(name)"), 0)
    var warnings: [String] = []
    let got = try cache.compile(denyChmod) { warnings.append($0) }
    XCTAssertNotEqual(got.bpf, entry.marked, "the symlink was followed")
    XCTAssertTrue(warnings.first?.contains("symbolic link") == true, "\(warnings)")
  }

  func testTheCacheDirectoryIsMadePrivate() throws {
    _ = try SeccompCache(directory: dir).compile(denyChmod)
    var st = stat()
    XCTAssertEqual(lstat(dir, &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o700)
    XCTAssertEqual(entries().count, 1)
  }
}
