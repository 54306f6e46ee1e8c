import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

/// A tiny tar writer for the tests: ustar headers, pax records for long names, raw field overrides for
/// hostile headers.
struct TarWriter {
  private(set) var bytes: [UInt8] = []

  /// Adds one entry; `rawSize` replaces the 12-byte size field (a base-256 monster), `data` follows.
  mutating func add(
    _ path: String, type: Character = "0", data: [UInt8] = [], mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
    link: String = "", rawSize: [UInt8]? = nil, devMajor: Int = 0, devMinor: Int = 0
  ) {
    if path.utf8.count > 100 || link.utf8.count > 100 {
      var records = ""
      if path.utf8.count > 100 { records += Self.paxRecord("path", path) }
      if link.utf8.count > 100 { records += Self.paxRecord("linkpath", link) }
      add("PaxHeaders/x", type: "x", data: Array(records.utf8))
    }
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, _ at: Int, _ len: Int) {
      for (i, b) in s.utf8.prefix(len).enumerated() { h[at + i] = b }
    }
    func octal(_ v: Int, _ at: Int, _ len: Int) {
      put(String(String(v, radix: 8).suffix(len - 1)).leftPad(len - 1), at, len - 1)
    }
    put(path, 0, 100)
    octal(Int(mode), 100, 8)
    octal(uid, 108, 8)
    octal(gid, 116, 8)
    if let rawSize {
      for (i, b) in rawSize.prefix(12).enumerated() { h[124 + i] = b }
    } else {
      octal(data.count, 124, 12)
    }
    octal(1_700_000_000, 136, 12)
    h[156] = type.asciiValue!
    put(link, 157, 100)
    put("ustar", 257, 6)
    put("00", 263, 2)
    octal(devMajor, 329, 8)
    octal(devMinor, 337, 8)
    for i in 148..<156 { h[i] = 0x20 }
    let sum = h.reduce(0) { $0 + Int($1) }
    put(String(String(sum, radix: 8)).leftPad(6), 148, 6)
    h[154] = 0
    bytes += h
    bytes += data
    bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
  }

  mutating func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: Int = 0) {
    add(path, data: Array(text.utf8), mode: mode, uid: uid)
  }
  mutating func dir(_ path: String, mode: UInt32 = 0o755) { add(path, type: "5", mode: mode) }
  mutating func symlink(_ path: String, to target: String) { add(path, type: "2", mode: 0o777, link: target) }
  mutating func hardlink(_ path: String, to target: String) { add(path, type: "1", link: target) }

  /// The archive with its end-of-archive marker.
  func finished() -> [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

  static func paxRecord(_ key: String, _ value: String) -> String {
    let body = " \(key)=\(value)\n"
    var n = body.utf8.count + 1
    while String(n).count + body.utf8.count != n { n += 1 }
    return "\(n)\(body)"
  }
}

extension String {
  fileprivate func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// sha256 hex of bytes, through the code under test (checked against known vectors in TarReaderTests).
func sha256Hex(_ bytes: [UInt8]) -> String {
  var h = CellaHost.SHA256()
  h.update(bytes)
  return h.finishHex()
}

/// gzip of bytes (the test's own `gzip -c`).
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] { try compressed(bytes, tool: "/bin/gzip", ["-c", "-n"]) }

/// Bytes through a compressor's stdin and stdout.
func compressed(_ bytes: [UInt8], tool: String, _ args: [String]) throws -> [UInt8] {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: tool)
  p.arguments = args
  let input = Pipe()
  let output = Pipe()
  p.standardInput = input
  p.standardOutput = output
  try p.run()
  let writer = Thread {
    input.fileHandleForWriting.write(Data(bytes))
    try? input.fileHandleForWriting.close()
  }
  writer.start()
  let out = output.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  return [UInt8](out)
}

/// An image config JSON with the given process fields and diff_ids.
func imageConfig(
  entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, workingDir: String? = nil,
  user: String? = nil, stopSignal: String? = nil, diffIDs: [String]
) -> [UInt8] {
  var config: [String: Any] = [:]
  if let entrypoint { config["Entrypoint"] = entrypoint }
  if let cmd { config["Cmd"] = cmd }
  if let env { config["Env"] = env }
  if let workingDir { config["WorkingDir"] = workingDir }
  if let user { config["User"] = user }
  if let stopSignal { config["StopSignal"] = stopSignal }
  let doc: [String: Any] = [
    "architecture": ImageManifests.hostArchitecture, "os": "linux", "config": config,
    "rootfs": ["type": "layers", "diff_ids": diffIDs.map { "sha256:" + $0 }],
  ]
  return [UInt8](try! JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]))
}

/// A docker archive (what `docker save` wrote before OCI layouts): manifest.json, HEX.json, L/layer.tar.
func dockerArchive(layers: [[UInt8]], config: [UInt8]? = nil) -> [UInt8] {
  let cfg = config ?? imageConfig(cmd: ["/bin/sh"], diffIDs: layers.map(sha256Hex))
  let cfgName = sha256Hex(cfg) + ".json"
  let layerNames = layers.indices.map { "layer\($0)/layer.tar" }
  let manifest: [[String: Any]] = [["Config": cfgName, "RepoTags": ["test:latest"], "Layers": layerNames]]
  var tar = TarWriter()
  tar.add("manifest.json", data: [UInt8](try! JSONSerialization.data(withJSONObject: manifest)))
  tar.add(cfgName, data: cfg)
  for (i, layer) in layers.enumerated() {
    tar.dir("layer\(i)/")
    tar.add(layerNames[i], data: layer)
  }
  return tar.finished()
}

/// The files of an OCI image layout (path → bytes) holding the given layer blobs.
func ociLayout(layers: [[UInt8]], config: [UInt8]) -> [(String, [UInt8])] {
  var files: [(String, [UInt8])] = [("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))]
  func blob(_ b: [UInt8]) -> String {
    let hex = sha256Hex(b)
    files.append(("blobs/sha256/" + hex, b))
    return "sha256:" + hex
  }
  let layerDescs = layers.map { l -> [String: Any] in
    ["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": blob(l), "size": l.count]
  }
  let configDesc: [String: Any] = [
    "mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": config.count,
  ]
  let manifest: [String: Any] = ["schemaVersion": 2, "config": configDesc, "layers": layerDescs]
  let manifestBytes = [UInt8](try! JSONSerialization.data(withJSONObject: manifest))
  let index: [String: Any] = [
    "schemaVersion": 2,
    "manifests": [
      [
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifestBytes),
        "size": manifestBytes.count,
        "platform": ["os": "linux", "architecture": ImageManifests.hostArchitecture],
      ]
    ],
  ]
  files.append(("index.json", [UInt8](try! JSONSerialization.data(withJSONObject: index))))
  return files
}

/// A test's own directory /tmp/cella-it-RUN-XXXXXX with a state dir and an `outside` dir in it; removed
/// by `cleanup`.
final class ImageSandbox {
  let dir: String
  let layout: StoreLayout
  var store: ImageStore
  let outside: String
  let warnings = WarningBox()

  init() {
    let run = ProcessInfo.processInfo.environment["CELLA_TEST_RUN"] ?? "img"
    var template = Array("/tmp/cella-it-\(run)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    layout = StoreLayout(root: dir + "/state")
    outside = dir + "/outside"
    mkdir(outside, 0o755)
    store = ImageStore(layout: layout)
    let box = warnings
    store.warn = { box.append($0) }
  }

  /// Writes a file in the sandbox and returns its path.
  func write(_ name: String, _ bytes: [UInt8]) -> String {
    let path = dir + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }

  /// Writes an OCI layout directory in the sandbox and returns its path.
  func writeLayout(_ name: String, _ files: [(String, [UInt8])]) -> String {
    let root = dir + "/" + name
    try? FileManager.default.removeItem(atPath: root)
    for (path, bytes) in files {
      let full = root + "/" + path
      try! FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
    }
    return root
  }

  /// Names in images/ (hidden ones too).
  func imagesEntries() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: layout.images)) ?? []).filter { $0 != ".cache" }.sorted()
  }

  /// Names in the `outside` directory (must stay empty).
  func outsideEntries() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? [] }

  func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

/// Warnings an ImageStore reported, collected across threads.
final class WarningBox: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []
  func append(_ line: String) { lock.withLock { lines.append(line) } }
  var all: [String] { lock.withLock { lines } }
}

/// Runs `body` and returns the HostError it threw (failing the test when it did not throw one).
func hostError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> HostError? {
  do {
    _ = try body()
    XCTFail("expected a HostError", file: file, line: line)
  } catch let e as HostError {
    XCTAssertFalse(e.message.contains("\n"), "one line: \(e.message)", file: file, line: line)
    return e
  } catch {
    XCTFail("not a HostError: \(error)", file: file, line: line)
  }
  return nil
}

/// lstat of a path: its mode, or nil when nothing is there.
func lstatMode(_ path: String) -> mode_t? {
  var st = stat()
  return lstat(path, &st) == 0 ? st.st_mode : nil
}
