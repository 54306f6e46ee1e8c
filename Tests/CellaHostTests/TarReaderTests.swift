import XCTest

@testable import CellaHost

final class TarReaderTests: XCTestCase {
  private func entries(_ bytes: [UInt8]) throws -> [(TarEntry, [UInt8])] {
    let reader = TarReader(MemorySource(bytes))
    var out: [(TarEntry, [UInt8])] = []
    while let e = try reader.next() {
      var data = [UInt8](repeating: 0, count: Int(e.size))
      var got = 0
      while got < data.count {
        let n = try reader.read(into: &data, from: got)
        if n == 0 { break }
        got += n
      }
      out.append((e, data))
    }
    return out
  }

  func testSHA256MatchesKnownDigests() {
    XCTAssertEqual(sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      sha256Hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // Fed in odd pieces, across block boundaries, the digest is the same.
    let big = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var h = CellaHost.SHA256()
    var at = 0
    for piece in [1, 63, 64, 65, 200, 607] {
      h.update(Array(big[at..<(at + piece)]))
      at += piece
    }
    XCTAssertEqual(h.finishHex(), sha256Hex(big))
    // The value python3 hashlib gives.
    XCTAssertEqual(sha256Hex(big), "89f4ff56a25dd1db06a4ce6033603775d705fb96f30f8693733fef602a1ca532")
  }

  func testReadsUstarFilesDirectoriesLinksAndPaxLongNames() throws {
    var tar = TarWriter()
    tar.dir("etc/")
    tar.file("etc/hostname", "box\n", mode: 0o640, uid: 7)
    tar.symlink("bin/sh", to: "/bin/busybox")
    let long = String(repeating: "d/", count: 70) + "file"
    tar.file(long, "deep")
    tar.hardlink("etc/again", to: "etc/hostname")
    let got = try entries(tar.finished())
    XCTAssertEqual(got.map(\.0.path), ["etc/", "etc/hostname", "bin/sh", long, "etc/again"])
    XCTAssertEqual(got[1].0.kind, .file)
    XCTAssertEqual(got[1].0.mode, 0o640)
    XCTAssertEqual(got[1].0.uid, 7)
    XCTAssertEqual(got[1].1, Array("box\n".utf8))
    XCTAssertEqual(got[2].0.kind, .symlink)
    XCTAssertEqual(got[2].0.linkName, "/bin/busybox")
    XCTAssertEqual(got[3].1, Array("deep".utf8))
    XCTAssertEqual(got[4].0.kind, .hardlink)
  }

  func testReadsGNULongNames() throws {
    var tar = TarWriter()
    let long = String(repeating: "n", count: 150)
    tar.add("././@LongLink", type: "L", data: Array(long.utf8) + [0])
    tar.file("short", "x")
    let got = try entries(tar.finished())
    XCTAssertEqual(got.map(\.0.path), [long])
  }

  func testHugeBase256SizeIsAnErrorNamingTheEntry() {
    var tar = TarWriter()
    // 2^63 in GNU base-256: the high bit marks the form, the value sits in the last 8 bytes.
    let huge: [UInt8] = [0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]
    tar.add("monster", rawSize: huge)
    let e = hostError { try self.entries(tar.finished()) }
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(e?.message.contains("\"monster\"") ?? false, e?.message ?? "")
    XCTAssertTrue(e?.message.contains("too large") ?? false, e?.message ?? "")
  }

  func testTruncatedDataNamesTheEntry() {
    var tar = TarWriter()
    tar.file("big", String(repeating: "x", count: 3000))
    let cut = Array(tar.bytes.prefix(512 + 1000))
    let e = hostError { try self.entries(cut) }
    XCTAssertTrue(e?.message.contains("entry \"big\": truncated") ?? false, e?.message ?? "")
  }

  func testBadChecksumNamesTheOffset() {
    var tar = TarWriter()
    tar.file("a", "1")
    tar.file("b", "2")
    var bytes = tar.finished()
    bytes[1024 + 10] ^= 0x55
    let e = hostError { try self.entries(bytes) }
    XCTAssertTrue(e?.message.contains("offset 1024: bad header checksum") ?? false, e?.message ?? "")
  }

  func testMissingEndMarkerIsAnError() {
    var tar = TarWriter()
    tar.file("a", "1")
    let e = hostError { try self.entries(tar.bytes) }
    XCTAssertTrue(e?.message.contains("end-of-archive") ?? false, e?.message ?? "")
  }

  func testMalformedPaxRecordIsAnError() {
    var tar = TarWriter()
    tar.add("pax", type: "x", data: Array("99 path=x\n".utf8))
    tar.file("a", "1")
    let e = hostError { try self.entries(tar.finished()) }
    XCTAssertTrue(e?.message.contains("pax header at offset 0: malformed record") ?? false, e?.message ?? "")
  }
}
