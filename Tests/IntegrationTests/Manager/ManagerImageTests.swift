import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Images through the CLI: a docker-archive's config becomes the guest's process; a hostile one writes
/// nothing outside the image directory and leaves no image.
final class ManagerImageTests: ManagerTestCase {
  override var needsBusyboxImage: Bool { false }

  /// One ustar entry (type "0" file, "2" symlink, "5" directory).
  func tarEntry(_ name: String, type: Character = "0", data: [UInt8] = [], link: String = "", mode: Int = 0o755)
    -> [UInt8]
  {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, _ at: Int, _ len: Int) { for (i, b) in s.utf8.prefix(len).enumerated() { h[at + i] = b } }
    func octal(_ v: Int, _ at: Int, _ len: Int) {
      put(String(String(v, radix: 8).suffix(len - 1)).leftPad(len - 1), at, len)
    }
    put(name, 0, 100)
    octal(mode, 100, 8)
    octal(0, 108, 8)
    octal(0, 116, 8)
    octal(data.count, 124, 12)
    octal(0, 136, 12)
    h[156] = UInt8(ascii: type.unicodeScalars.first!)
    put(link, 157, 100)
    put("ustar", 257, 6)
    put("00", 263, 2)
    for i in 148..<156 { h[i] = 32 }
    let sum = h.reduce(0) { $0 + Int($1) }
    put(String(String(sum, radix: 8)).leftPad(6) + "\0 ", 148, 8)
    let pad = (512 - data.count % 512) % 512
    return h + data + [UInt8](repeating: 0, count: pad)
  }

  func tar(_ entries: [[UInt8]]) -> [UInt8] { entries.flatMap { $0 } + [UInt8](repeating: 0, count: 1024) }

  /// A docker-archive (what `docker save` writes) with one layer and an image config.
  func dockerArchive(layer: [UInt8], config: [String: Any]) throws -> String {
    let layerPath = f.tmp + "/layer-\(UInt32.random(in: 0...UInt32.max)).tar"
    FileManager.default.createFile(atPath: layerPath, contents: Data(layer))
    let sum = Spawner.run("/usr/bin/sha256sum", [layerPath], outputDirectory: f.tmp).stdout.prefix(64)
    let cfg = try JSONSerialization.data(withJSONObject: [
      "config": config, "rootfs": ["type": "layers", "diff_ids": ["sha256:\(sum)"]],
    ])
    let manifest = try JSONSerialization.data(withJSONObject: [
      ["Config": "config.json", "RepoTags": ["test:latest"], "Layers": ["layer/layer.tar"]]
    ])
    let archive = tar([
      tarEntry("manifest.json", data: Array(manifest), mode: 0o644),
      tarEntry("config.json", data: Array(cfg), mode: 0o644),
      tarEntry("layer/", type: "5"),
      tarEntry("layer/layer.tar", data: layer, mode: 0o644),
    ])
    let path = f.tmp + "/image-\(UInt32.random(in: 0...UInt32.max)).tar"
    FileManager.default.createFile(atPath: path, contents: Data(archive))
    return path
  }

  func testDockerArchiveConfigBecomesTheGuestsProcess() throws {
    let busybox = try Data(contentsOf: URL(fileURLWithPath: "/bin/busybox"))
    let layer = tar([
      tarEntry("bin/", type: "5"),
      tarEntry("bin/busybox", data: Array(busybox)),
      tarEntry("bin/sh", type: "2", link: "busybox"),
      tarEntry("bin/sleep", type: "2", link: "busybox"),
      tarEntry("srv/", type: "5"),
    ])
    let file = try dockerArchive(
      layer: layer,
      config: [
        "Cmd": ["-c", "echo imported-$FOO in $(pwd); sleep 1000"], "Entrypoint": ["/bin/sh"], "Env": ["FOO=bar"],
        "WorkingDir": "/srv",
      ])
    f.ok(["image", "import", file, "imported"])
    XCTAssertTrue(f.ok(["image", "list"]).stdout.contains("imported"))
    let g = f.name("imp")
    f.ok(["launch", g, "--image", "imported"])
    XCTAssertTrue(
      f.eventually { f.cli(["logs", g]).stdout.contains("imported-bar in /srv") }, f.cli(["logs", g]).stdout)
  }

  func testAnImageWithoutCommandNeedsOneAtCreate() throws {
    let busybox = try Data(contentsOf: URL(fileURLWithPath: "/bin/busybox"))
    let layer = tar([tarEntry("bin/", type: "5"), tarEntry("bin/busybox", data: Array(busybox))])
    f.ok(["image", "import", try dockerArchive(layer: layer, config: ["Env": ["A=b"]]), "nocmd"])
    let g = f.name("nocmd")
    let r = f.cli(["create", g, "--image", "nocmd"])
    XCTAssertEqual(r.status, 1, "\(r)")
    XCTAssertEqual(r.stderrLines.count, 1, "\(r)")
    XCTAssertTrue(r.stderr.contains("no command"), "\(r)")
    XCTAssertTrue(f.list().isEmpty, "nothing was created")
    f.ok(["create", g, "--image", "nocmd", "--", "/bin/busybox", "sleep", "1000"])
  }

  func testHostileArchiveWritesNothingOutsideAndLeavesNoImage() throws {
    let outside = f.tmp + "/outside"
    mkdir(outside, 0o755)
    let cases: [(String, [[UInt8]])] = [
      ("climbing", [tarEntry("../../../../../../\(outside.dropFirst())/climbed", data: Array("x".utf8))]),
      ("absolute", [tarEntry("\(outside)/absolute", data: Array("x".utf8))]),
      ("symlink", [tarEntry("evil", type: "2", link: outside), tarEntry("evil/through-link", data: Array("x".utf8))]),
      ("hardlink", [tarEntry("passwd", type: "1", link: "/etc/passwd"), tarEntry("passwd", data: Array("x".utf8))]),
    ]
    for (label, entries) in cases {
      let file = try dockerArchive(layer: tar(entries), config: ["Cmd": ["/bin/sh"]])
      let r = f.cli(["image", "import", file, "hostile-\(label)"])
      XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? ["?"], [], "\(label): \(r)")
      XCTAssertNotEqual(try String(contentsOfFile: "/etc/passwd", encoding: .utf8), "x")
      if r.status != 0 {
        XCTAssertEqual(r.stderrLines.count, 1, "\(label): one line: \(r)")
        XCTAssertFalse(f.cli(["image", "list"]).stdout.contains("hostile-\(label)"), "\(label): no image left")
      }
    }
    let corrupt = f.tmp + "/corrupt.tar"
    FileManager.default.createFile(atPath: corrupt, contents: Data(repeating: 0x41, count: 700))
    let r = f.cli(["image", "import", corrupt, "corrupt"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderrLines.count, 1, "\(r)")
    XCTAssertTrue(r.stderr.contains("corrupt.tar"), "names the file: \(r)")
    // Refused imports leave no staging directory; a confined one (an absolute path lands inside) is an image.
    XCTAssertEqual(
      (try? FileManager.default.contentsOfDirectory(atPath: f.stateDir + "/images"))?.filter { $0.hasPrefix(".tmp") },
      [])
  }
}

extension String {
  fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
