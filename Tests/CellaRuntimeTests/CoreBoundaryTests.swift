import Foundation
import XCTest

/// CellaRuntimeCore is linked by a threaded daemon: it must not depend on the engine, nor change
/// process-wide state, reap other code's children or sleep (Docs/architecture.md, "Core and engine").
final class CoreBoundaryTests: XCTestCase {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// Calls that change the whole process, need it single-threaded, reap any child or block in a sleep.
  static let forbidden: [(pattern: String, why: String)] = [
    (#"\b(sigprocmask|pthread_sigmask|sigaction|signal)\s*\("#, "signal mask or handlers"),
    (#"\b(cella_)?prctl\s*\("#, "prctl (dumpable, subreaper, pdeathsig)"),
    (#"\b(setns|unshare|cella_setns|cella_unshare)\s*\("#, "the caller's namespaces"),
    (#"\b(cella_clone|fork|vfork|clone)\s*\("#, "fork in a threaded process"),
    (#"\b(chdir|fchdir|chroot|umask|setsid|setuid|setgid|setgroups)\s*\("#, "process attributes"),
    (#"\bwaitpid\s*\(\s*-1"#, "reaping any child"),
    (#"\b(usleep|sleep|nanosleep)\s*\("#, "sleeping"),
    (#"\b_?exit\s*\("#, "exiting the caller"),
  ]

  func coreSources() throws -> [(name: String, lines: [String])] {
    let dir = Self.packageRoot + "/Sources/CellaRuntimeCore"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".swift") }.sorted()
    XCTAssertFalse(names.isEmpty, "no sources in \(dir)")
    return try names.map { name in
      let text = try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)
      return (name, text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }
  }

  /// A line without its `//` comment and the contents of its string literals (messages may say "clone").
  static func code(_ line: String) -> String {
    var out = ""
    var inString = false
    var previous: Character = " "
    for c in line {
      if !inString && c == "/" && previous == "/" {
        out.removeLast()
        break
      }
      if c == "\"" && previous != "\\" { inString.toggle() }
      if !inString || c == "\"" { out.append(c) }
      previous = c
    }
    return out
  }

  func testCoreMakesNoProcessWideOrBlockingCalls() throws {
    var found: [String] = []
    for (name, lines) in try coreSources() {
      for (i, line) in lines.enumerated() {
        let code = Self.code(line)
        for rule in Self.forbidden where code.range(of: rule.pattern, options: .regularExpression) != nil {
          found.append("\(name):\(i + 1): \(rule.why): \(line.trimmingCharacters(in: .whitespaces))")
        }
      }
    }
    XCTAssertEqual(found, [], "CellaRuntimeCore must leave the caller's process alone")
  }

  func testCoreDoesNotImportTheEngine() throws {
    for (name, lines) in try coreSources() {
      for line in lines where line.hasPrefix("import ") || line.hasPrefix("@testable import ") {
        XCTAssertFalse(line.hasSuffix(" CellaEngine"), "\(name) imports the engine")
      }
    }
  }

  func testCoreTargetDoesNotDependOnTheEngine() throws {
    guard let swift = Self.findSwift() else { throw XCTSkip("swift is not on PATH") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: swift)
    process.arguments = [
      "package", "--package-path", Self.packageRoot, "--scratch-path", NSTemporaryDirectory() + "/cella-dump-package",
      "dump-package",
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    let package = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    let targets = try XCTUnwrap(package["targets"] as? [[String: Any]])
    var dependencies: [String: [String]] = [:]
    for t in targets {
      guard let name = t["name"] as? String else { continue }
      let deps = (t["dependencies"] as? [[String: Any]]) ?? []
      dependencies[name] = deps.compactMap { d in
        for key in ["byName", "target", "product"] {
          if let v = d[key] as? [Any], let n = v.first as? String { return n }
        }
        return nil
      }
    }
    XCTAssertNotNil(dependencies["CellaRuntimeCore"])
    var closure: Set<String> = []
    var todo = ["CellaRuntimeCore"]
    while let next = todo.popLast() {
      for d in dependencies[next] ?? [] where closure.insert(d).inserted { todo.append(d) }
    }
    XCTAssertFalse(closure.contains("CellaEngine"), "CellaRuntimeCore depends on CellaEngine: \(closure.sorted())")
    let products = (package["products"] as? [[String: Any]]) ?? []
    let core = products.first { $0["name"] as? String == "CellaRuntimeCore" }
    XCTAssertEqual(core?["targets"] as? [String], ["CellaRuntimeCore"], "the library product is the core alone")
  }

  static func findSwift() -> String? {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/opt/swift/usr/bin"
    for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/swift") {
      return "\(dir)/swift"
    }
    return nil
  }
}
