import CShims
import CellaSys
import Glibc

/// A host program (a decompressor, QEMU for the accelerator probe) run to its end within a deadline.
enum KernelTool {
  /// What a bounded run ended with: the exit code (shell convention), whether the deadline killed it,
  /// the tail of its stderr and the time it took.
  struct Outcome: Sendable {
    let exitCode: Int32
    let timedOut: Bool
    let stderr: String
    let seconds: Double
  }

  /// The environment every tool runs with: a fixed PATH, C locale, nothing of the caller's.
  static var environment: [String] { Spawn.toolEnvironment }

  /// The absolute path of `name` in the usual directories, nil when it is not installed.
  static func find(_ name: String) -> String? { Spawn.findTool(name) }

  /// Runs `path` with stdin and stdout on the given fds (stdin gets `input` first when given, through a
  /// pipe), kills and reaps it when `timeout` passes.
  static func run(
    _ path: String, _ args: [String], stdin: Int32? = nil, input: [UInt8]? = nil, stdout: Int32? = nil,
    timeout: Double
  ) throws(VMError) -> Outcome {
    let started = monotonicSeconds()
    let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { if devnull >= 0 { close(devnull) } }
    var errPipe: [Int32] = [-1, -1]
    var inPipe: [Int32] = [-1, -1]
    if cella_pipe2(&errPipe, O_CLOEXEC) != 0 { throw VMError("pipe", errno: errno) }
    defer { errPipe.forEach { if $0 >= 0 { close($0) } } }
    if input != nil, cella_pipe2(&inPipe, O_CLOEXEC) != 0 { throw VMError("pipe", errno: errno) }
    defer { inPipe.forEach { if $0 >= 0 { close($0) } } }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: path, argv: [path] + args, env: environment, stdin: input != nil ? inPipe[0] : (stdin ?? devnull),
        stdout: stdout ?? devnull, stderr: errPipe[1], newSession: true)
    } catch {
      throw VMError(.executableNotRunnable, "run \(path): \(error)")
    }
    close(errPipe[1])
    errPipe[1] = -1
    if let input {
      // Small enough for the pipe's buffer: the write never blocks, whatever the child does. Written
      // while this process still holds the read end: a child that has already exited must not turn the
      // write into a SIGPIPE, which would end the daemon (or the test process) itself.
      _ = input.withUnsafeBytes { Glibc.write(inPipe[1], $0.baseAddress, min($0.count, 4096)) }
      close(inPipe[0])
      inPipe[0] = -1
      close(inPipe[1])
      inPipe[1] = -1
    }
    var text: [UInt8] = []
    var timedOut = false
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let left = timeout - (monotonicSeconds() - started)
      if left <= 0 {
        timedOut = true
        break
      }
      var fds = [pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
      let ready = poll(&fds, 1, Int32(left * 1000) + 1)
      if ready < 0 && errno == EINTR { continue }
      if ready <= 0 { continue }
      let n = chunk.withUnsafeMutableBytes { Glibc.read(errPipe[0], $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      text.append(contentsOf: chunk[0..<n])
      if text.count > 8192 { text.removeFirst(text.count - 8192) }
    }
    // stderr closed means the tool is exiting, but the deadline still holds until it is reaped.
    var status: Int32 = -1
    while !timedOut {
      var raw: Int32 = 0
      let got = waitpid(pid, &raw, WNOHANG)
      if got == pid {
        status = raw
        break
      }
      if got < 0 && errno != EINTR { break }
      if monotonicSeconds() - started >= timeout { timedOut = true } else { usleep(5000) }
    }
    if timedOut {
      kill(pid, SIGKILL)
      status = (try? Processes.wait(pid)) ?? -1
    }
    return Outcome(
      exitCode: Processes.exitCode(status: status), timedOut: timedOut,
      stderr: String(decoding: text, as: UTF8.self), seconds: monotonicSeconds() - started)
  }

  /// The last non-empty line of a tool's output, for an error message.
  static func lastLine(_ text: String) -> String {
    text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last.map(String.init) ?? ""
  }

  static func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
}
