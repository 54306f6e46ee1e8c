import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// What one invocation of a command returned.
struct CommandResult: CustomStringConvertible {
  var status: Int32
  var stdout: String
  var stderr: String
  var arguments: [String]

  var stderrLines: [String] {
    stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
  }

  var description: String {
    "`\(arguments.joined(separator: " "))` exited \(status)\nstdout: \(stdout)\nstderr: \(stderr)"
  }
}

/// A spawned process that is still running (for tests that kill `create` half way).
final class SpawnedProcess {
  let pid: pid_t
  let stdoutPath: String
  let stderrPath: String
  let arguments: [String]
  private var result: CommandResult?

  init(pid: pid_t, stdoutPath: String, stderrPath: String, arguments: [String]) {
    self.pid = pid
    self.stdoutPath = stdoutPath
    self.stderrPath = stderrPath
    self.arguments = arguments
  }

  /// Waits for the process to end (SIGKILL after `timeout`, which fails the test) and collects its output.
  func wait(timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line) -> CommandResult {
    if let result { return result }
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    var timedOut = false
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid || (r < 0 && errno != EINTR) { break }
      if Date() >= deadline {
        timedOut = true
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        break
      }
      usleep(1000)
    }
    if timedOut {
      XCTFail(
        "timed out after \(Int(timeout)) s and killed: \(arguments.joined(separator: " "))", file: file, line: line)
    }
    let signal = status & 0x7f
    let code: Int32 = signal == 0 ? (status >> 8) & 0xff : 128 + signal
    let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    let r = CommandResult(status: code, stdout: out, stderr: err, arguments: arguments)
    result = r
    return r
  }
}

/// Runs programs with posix_spawn (the test runner never forks), stdin from /dev/null.
///
/// Output goes to files, not pipes: a container started by `create` inherits the runtime's stdout,
/// so a pipe would stay open after the runtime exits. Every fd above 2 is closed in the child
/// (Foundation's Process leaks a socket into the child, and a created container's init would hold it).
enum Spawner {
  private static let counter = Counter()

  private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which the Glibc module does not import.
  private static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
  {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
      return -1
    }
    return unsafeBitCast(sym, to: AddCloseFrom.self)(actions, from)
  }

  /// Starts `executable`; `inheriting` fds become the child's fds 3, 4, … (QEMU's `-netdev tap,fd=3`).
  static func spawn(
    _ executable: String, _ arguments: [String], outputDirectory: String, stdoutPath: String? = nil,
    environment: [String]? = nil, inheriting: [Int32] = []
  ) throws -> SpawnedProcess {
    let n = counter.next()
    let outPath = stdoutPath ?? "\(outputDirectory)/cmd-\(n).out"
    let errPath = "\(outputDirectory)/cmd-\(n).err"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    for (i, fd) in inheriting.enumerated() {
      // Each must be above the targets, or an earlier dup2 would overwrite it.
      guard fd >= 3 + Int32(inheriting.count) else { throw HarnessError("fd \(fd) to inherit is among 3..") }
      posix_spawn_file_actions_adddup2(&actions, fd, 3 + Int32(i))
    }
    guard addCloseFrom(&actions, 3 + Int32(inheriting.count)) == 0 else {
      throw HarnessError("posix_spawn_file_actions_addclosefrom_np failed")
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let envp = environment.map { $0.map { strdup($0) } + [nil] }
    defer { envp?.forEach { free($0) } }
    let rc =
      envp.map { posix_spawn(&pid, executable, &actions, &attr, argv, $0) }
      ?? posix_spawn(&pid, executable, &actions, &attr, argv, environ)
    if rc != 0 { throw HarnessError("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
    return SpawnedProcess(pid: pid, stdoutPath: outPath, stderrPath: errPath, arguments: [executable] + arguments)
  }

  static func run(
    _ executable: String, _ arguments: [String], outputDirectory: String, stdoutPath: String? = nil,
    environment: [String]? = nil, timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line
  ) -> CommandResult {
    do {
      let p = try spawn(
        executable, arguments, outputDirectory: outputDirectory, stdoutPath: stdoutPath, environment: environment)
      return p.wait(timeout: timeout, file: file, line: line)
    } catch {
      XCTFail("cannot run \(executable): \(error)", file: file, line: line)
      return CommandResult(status: -1, stdout: "", stderr: "\(error)", arguments: [executable] + arguments)
    }
  }
}

final class Counter: @unchecked Sendable {
  private var value = 0
  private let lock = NSLock()

  func next() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value
  }
}

struct HarnessError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
