import Foundation
import XCTest

/// A temporary directory tree standing in for cgroupfs: directories plus the files the kernel would create.
final class TempTree {
  let root: String

  init(_ label: String) throws {
    // Named after the suite's run (CELLA_TEST_RUN), so Scripts/leak-check.sh sees one left behind.
    let run = ProcessInfo.processInfo.environment["CELLA_TEST_RUN"] ?? "x"
    root = "/tmp/cella-it-\(run)-cg-\(label)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: root) }

  /// Creates `dir` (relative to root) and empty or given files in it.
  func make(_ dir: String, files: [String] = [], contents: [String: String] = [:]) throws {
    let path = root + dir
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    for f in files where contents[f] == nil {
      _ = FileManager.default.createFile(atPath: "\(path)/\(f)", contents: Data())
    }
    for (f, text) in contents { _ = FileManager.default.createFile(atPath: "\(path)/\(f)", contents: Data(text.utf8)) }
  }

  /// The contents of a file relative to root.
  func read(_ file: String) -> String? {
    try? String(contentsOfFile: root + file, encoding: .utf8)
  }

  func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root + path) }
}
