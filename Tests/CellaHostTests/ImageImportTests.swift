import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

final class ImageImportTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  /// Layer 1: a small tree; layer 2: a whiteout, an opaque directory refilled, a new file.
  private func twoLayers() -> [[UInt8]] {
    var base = TarWriter()
    base.dir("etc/")
    base.file("etc/keep", "kept\n")
    base.file("etc/gone", "whited out\n")
    base.dir("opt/")
    base.dir("opt/app/")
    base.file("opt/app/old1", "old")
    base.dir("opt/app/sub/")
    base.file("opt/app/sub/old2", "old")
    base.file("bin/tool", "#!/bin/sh\n", mode: 0o755)
    var top = TarWriter()
    top.add("etc/.wh.gone")
    top.dir("opt/app/")
    top.add("opt/app/.wh..wh..opq")
    top.file("opt/app/new", "new")
    top.file("etc/added", "added\n")
    return [base.finished(), top.finished()]
  }

  private func checkTree(_ rootfs: String, file: StaticString = #filePath, line: UInt = #line) {
    let fm = FileManager.default
    XCTAssertEqual(fm.contents(atPath: rootfs + "/etc/keep"), Data("kept\n".utf8), file: file, line: line)
    XCTAssertEqual(fm.contents(atPath: rootfs + "/etc/added"), Data("added\n".utf8), file: file, line: line)
    XCTAssertNil(lstatMode(rootfs + "/etc/gone"), "whiteout removes etc/gone", file: file, line: line)
    XCTAssertNil(lstatMode(rootfs + "/etc/.wh.gone"), "whiteouts are not files", file: file, line: line)
    XCTAssertEqual(
      try? fm.contentsOfDirectory(atPath: rootfs + "/opt/app").sorted(), ["new"], "opaque dir keeps only layer 2",
      file: file, line: line)
    XCTAssertEqual((lstatMode(rootfs + "/bin/tool") ?? 0) & 0o7777, 0o755, file: file, line: line)
  }

  func testDockerArchiveWithTwoLayersAppliesWhiteoutsAndOpaqueDirsAndMapsTheConfig() throws {
    let layers = twoLayers()
    let config = imageConfig(
      entrypoint: ["/bin/tool"], cmd: ["--serve"], env: ["PATH=/bin", "A=1"], workingDir: "/opt/app", user: "1000",
      stopSignal: "SIGINT", diffIDs: layers.map(sha256Hex))
    let file = box.write("image.tar", dockerArchive(layers: layers, config: config))
    let record = try box.store.importArchive(file: file, name: "web")
    XCTAssertEqual(record.source, .dockerArchive)
    XCTAssertEqual(record.origin, file)
    XCTAssertEqual(
      record.process,
      ImageProcess(
        entrypoint: ["/bin/tool"], cmd: ["--serve"], env: ["PATH=/bin", "A=1"], workingDir: "/opt/app", user: "1000",
        stopSignal: "SIGINT"))
    checkTree(box.store.rootfs("web"))
    XCTAssertEqual(try box.store.record("web"), record)
    XCTAssertEqual(box.imagesEntries(), ["web"])
  }

  func testOCILayoutDirectoryWithTwoLayersOneGzipped() throws {
    let layers = twoLayers()
    let config = imageConfig(cmd: ["/bin/sh", "-l"], env: ["PATH=/usr/bin"], diffIDs: layers.map(sha256Hex))
    let dir = box.writeLayout("layout", ociLayout(layers: [try gzipped(layers[0]), layers[1]], config: config))
    let record = try box.store.importArchive(file: dir, name: "oci")
    XCTAssertEqual(record.source, .oci)
    XCTAssertEqual(record.process.cmd, ["/bin/sh", "-l"])
    XCTAssertEqual(record.process.env, ["PATH=/usr/bin"])
    XCTAssertNil(record.process.entrypoint)
    checkTree(box.store.rootfs("oci"))
  }

  func testLargeGzipLayerStreamsThroughTheDecompressor() throws {
    // Larger than any pipe or socket buffer on both sides of gzip, so the poll loop must interleave.
    var rng = SeededRandom(seed: 42)
    let big = (0..<3_000_000).map { _ in UInt8(truncatingIfNeeded: rng.next(256)) }
    var layer = TarWriter()
    layer.add("big.bin", data: big)
    for i in 0..<200 { layer.file("many/f\(i)", String(repeating: "z", count: i * 50)) }
    let tar = layer.finished()
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: [sha256Hex(tar)])
    let dir = box.writeLayout("layout", ociLayout(layers: [try gzipped(tar)], config: config))
    _ = try box.store.importArchive(file: dir, name: "big")
    let rootfs = box.store.rootfs("big")
    XCTAssertEqual(FileManager.default.contents(atPath: rootfs + "/big.bin").map { [UInt8]($0) }, big)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/many").count, 200)
  }

  func testZstdLayerIsDecompressedWithZstd() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") else { return print("skipped: no zstd") }
    let layers = twoLayers()
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: layers.map(sha256Hex))
    let zst = try compressed(layers[1], tool: "/usr/bin/zstd", ["-q", "-c"])
    XCTAssertEqual(Array(zst.prefix(4)), [0x28, 0xb5, 0x2f, 0xfd])
    let dir = box.writeLayout("layout", ociLayout(layers: [layers[0], zst], config: config))
    _ = try box.store.importArchive(file: dir, name: "zst")
    checkTree(box.store.rootfs("zst"))
  }

  func testRelativeFileIsRefused() {
    let e = hostError { try self.box.store.importArchive(file: "image.tar", name: "rel") }
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertEqual(
      e?.message, "image file \"image.tar\" must be an absolute path (the daemon's directory is not yours)")
  }

  func testOCILayoutAsTar() throws {
    let layers = twoLayers()
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: layers.map(sha256Hex))
    var tar = TarWriter()
    for (path, bytes) in ociLayout(layers: layers, config: config) { tar.add(path, data: bytes) }
    let file = box.write("oci.tar", tar.finished())
    let record = try box.store.importArchive(file: file, name: "ocitar")
    XCTAssertEqual(record.source, .oci)
    checkTree(box.store.rootfs("ocitar"))
  }

  func testLayerWithWrongDigestIsRefusedAndLeavesNothing() throws {
    let layers = twoLayers()
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: layers.map(sha256Hex))
    var files = ociLayout(layers: layers, config: config)
    // Same name, other content: the blob no longer matches its digest.
    let i = files.firstIndex { $0.1 == layers[1] }!
    files[i].1 = layers[0]
    let dir = box.writeLayout("layout", files)
    let e = hostError { try self.box.store.importArchive(file: dir, name: "bad") }
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(e?.message.contains("layer 2 (blobs/sha256/") ?? false, e?.message ?? "")
    XCTAssertTrue(e?.message.contains("digest mismatch") ?? false, e?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
  }

  func testDockerArchiveLayerNotMatchingItsDiffIDIsRefused() throws {
    let layers = twoLayers()
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: [sha256Hex(layers[0]), sha256Hex(layers[0])])
    let file = box.write("image.tar", dockerArchive(layers: layers, config: config))
    let e = hostError { try self.box.store.importArchive(file: file, name: "bad") }
    XCTAssertTrue(e?.message.contains("layer 2 (layer1/layer.tar): diff_id mismatch") ?? false, e?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
  }

  func testNotAnImageArchiveNamesTheFile() {
    var tar = TarWriter()
    tar.file("README", "hello")
    let file = box.write("plain.tar", tar.finished())
    let e = hostError { try self.box.store.importArchive(file: file, name: "x") }
    XCTAssertTrue(e?.message.hasPrefix(file + ": neither an OCI image layout") ?? false, e?.message ?? "")
    let garbage = box.write("garbage", Array(repeating: 0x41, count: 2000))
    let g = hostError { try self.box.store.importArchive(file: garbage, name: "x") }
    XCTAssertTrue(g?.message.contains("\(garbage): offset 0: bad header checksum") ?? false, g?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
  }

  func testImportOfAnExistingNameIsAlreadyExists() throws {
    let file = box.write("image.tar", dockerArchive(layers: twoLayers()))
    _ = try box.store.importArchive(file: file, name: "web")
    let e = hostError { try self.box.store.importArchive(file: file, name: "web") }
    XCTAssertEqual(e?.kind, .alreadyExists)
    XCTAssertEqual(e?.message, "image \"web\" already exists")
  }
}
