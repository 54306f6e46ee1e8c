import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

/// Random mutations of a small valid layer and docker archive: every import ends in an image or a
/// HostError (never a trap), and nothing is left anywhere but in images/NAME.
final class ImageFuzzTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  private func seedLayer() -> [UInt8] {
    var tar = TarWriter()
    tar.dir("etc/")
    tar.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    tar.symlink("out", to: box.outside)
    tar.symlink("bin/sh", to: "/bin/busybox")
    tar.hardlink("etc/again", to: "etc/passwd")
    // Longer than a ustar name: a pax record (kept shallow, deep trees only slow the loop down).
    tar.file(
      String(repeating: "x", count: 60) + "/" + String(repeating: "y", count: 60), "long", mode: 0o4755, uid: 1000)
    tar.add("etc/.wh.gone")
    tar.add("fifo", type: "6")
    return tar.finished()
  }

  /// A copy with a few random changes: flipped bytes, bytes set to tar-meaningful values, a cut.
  private func mutate(_ seed: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
    var b = seed
    for _ in 0..<(1 + rng.next(4)) {
      let at = rng.next(b.count)
      switch rng.next(5) {
      case 0: b[at] ^= UInt8(1 << rng.next(8))
      case 1: b[at] = [0, 0x80, 0xff, UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "7")][rng.next(6)]
      case 2: b[at] = UInt8(truncatingIfNeeded: rng.next(256))
      case 3: b = Array(b.prefix(at))
      default:
        // Typeflag of some header: a link, a directory, a pax or GNU header, garbage.
        let header = (at / 512) * 512 + 156
        if header < b.count { b[header] = Array("0125xgLKS3".utf8)[rng.next(10)] }
      }
      if b.isEmpty { break }
    }
    return b
  }

  private func checkClean(_ name: String, succeeded: Bool, _ what: String) {
    let expected = succeeded ? [name] : []
    XCTAssertEqual(box.imagesEntries(), expected, what)
    XCTAssertEqual(box.outsideEntries(), [], what)
    if succeeded { try? box.store.delete(name, usedBy: []) }
  }

  private var outcomes = (images: 0, errors: 0)

  private func runImport(_ file: String, _ what: String) {
    do {
      _ = try box.store.importArchive(file: file, name: "fuzz")
      outcomes.images += 1
      checkClean("fuzz", succeeded: true, what)
    } catch {
      outcomes.errors += 1
      XCTAssertFalse(error.message.contains("\n"), error.message)
      checkClean("fuzz", succeeded: false, what + ": " + error.message)
    }
  }

  func testMutatedLayersEndInAnImageOrAnError() {
    var rng = SeededRandom(seed: 0x5eed_1a7e)
    let seed = seedLayer()
    for i in 0..<200 {
      let layer = mutate(seed, &rng)
      // Digests recomputed so every mutation reaches the tar reader and the writer.
      let dir = box.writeLayout("layout", ociLayout(layers: [layer], config: imageConfig(diffIDs: [])))
      runImport(dir, "layer mutation \(i)")
    }
    XCTAssertGreaterThan(outcomes.images, 10, "mutations that still import exercise the writer")
    XCTAssertGreaterThan(outcomes.errors, 10)
  }

  func testMutatedDockerArchivesEndInAnImageOrAnError() {
    var rng = SeededRandom(seed: 0xd0c_4e12)
    let seed = dockerArchive(layers: [seedLayer()])
    for i in 0..<200 {
      let file = box.write("fuzz.tar", mutate(seed, &rng))
      runImport(file, "archive mutation \(i)")
    }
    // Most changes break a digest; the few that hit only padding or names still import.
    XCTAssertGreaterThan(outcomes.images, 0)
    XCTAssertGreaterThan(outcomes.errors, 10)
  }
}

/// A small deterministic generator (SplitMix64), so a failing mutation can be replayed.
struct SeededRandom {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next(_ bound: Int) -> Int {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    z ^= z >> 31
    return bound <= 1 ? 0 : Int(z % UInt64(bound))
  }
}
