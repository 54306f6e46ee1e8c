import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// QEMU started by hand (no cella) under TCG, its first serial port written to `console`: the reference a
/// cella VM is compared with, and the way fixtures are proven to boot.
final class BareQEMU {
  static let path = "/usr/bin/qemu-system-x86_64"
  let process: SpawnedProcess
  /// The guest's ttyS0, as a file.
  let console: String
  let started = Date()

  /// Starts QEMU with `-accel tcg -nodefaults -no-reboot -display none -serial file:CONSOLE` and
  /// `arguments`; `inheriting` fds become 3, 4, … (`-netdev tap,fd=3`).
  init(_ arguments: [String], directory: String, name: String = "qemu", inheriting: [Int32] = []) throws {
    guard access(Self.path, X_OK) == 0 else {
      throw SuiteConfiguration.skip("no \(Self.path) (apt-get install qemu-system-x86)")
    }
    console = "\(directory)/\(name).console"
    let fixed = [
      "-accel", "tcg", "-nodefaults", "-no-reboot", "-display", "none", "-serial", "file:\(console)",
    ]
    process = try Spawner.spawn(Self.path, fixed + arguments, outputDirectory: directory, inheriting: inheriting)
  }

  deinit { stop() }

  /// The first console line starting with `prefix`, waiting up to `timeout` seconds; nil when it did not
  /// come (or QEMU ended).
  func line(_ prefix: String, timeout: TimeInterval) -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let text = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
      if let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(prefix) }) {
        return String(line)
      }
      if Date() >= deadline || !running { return nil }
      usleep(50_000)
    }
  }

  /// Whether QEMU is still running.
  var running: Bool { stopped == nil && kill(process.pid, 0) == 0 && !exited }

  private var exited: Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8) else { return true }
    // "PID (comm) STATE …": a zombie has ended.
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
  }

  /// The console so far.
  var consoleText: String { (try? String(contentsOfFile: console, encoding: .utf8)) ?? "" }

  /// Ends QEMU (SIGTERM, then SIGKILL after 10 s) and reaps it.
  @discardableResult
  func stop() -> CommandResult {
    // Once reaped, the pid may be another process's.
    if let stopped { return stopped }
    kill(process.pid, SIGTERM)
    let result = process.wait(timeout: 10)
    stopped = result
    return result
  }

  /// Waits for QEMU to end by itself (the guest powered off); after `timeout` seconds it is killed and
  /// the test fails.
  @discardableResult
  func waitForExit(timeout: TimeInterval) -> CommandResult {
    if let stopped { return stopped }
    let result = process.wait(timeout: timeout)
    stopped = result
    return result
  }

  private var stopped: CommandResult?
}
