import CellaOCI
import Foundation
import XCTest

@testable import CellaSecurity

/// The compiled-filter cache: SHA-256 keys, a round trip that keeps flags and the listener bit, and a
/// key that changes with the profile.
final class SeccompCacheTests: XCTestCase {
  func testSHA256MatchesTheStandardVectors() {
    XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  func testCachedFilterIsTheCompiledOneAndKeysFollowTheProfile() throws {
    let dir = NSTemporaryDirectory() + "cella-seccomp-cache-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let cache = SeccompCache(directory: dir)
    let profile = LinuxSeccomp(
      defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x",
      syscalls: [LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")])
    let first = try cache.compile(profile)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 1)
    let second = try cache.compile(profile)
    XCTAssertEqual(second.bpf, first.bpf)
    XCTAssertEqual(second.flags, first.flags)
    XCTAssertTrue(second.needsListener)
    var other = profile
    other.defaultAction = "SCMP_ACT_LOG"
    XCTAssertNotEqual(SeccompCache.key(other), SeccompCache.key(profile))
  }
}
