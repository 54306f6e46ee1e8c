import CShims
import CellaSys
import Glibc

/// The host programs images are made with, found in the usual directories, and how they are run.
enum HostTools {
  /// The environment every tool runs with: a fixed PATH, C locale, nothing of the daemon's.
  static var environment: [String] { Spawn.toolEnvironment }

  /// The absolute path of `name` in the usual directories, nil when it is not installed.
  static func find(_ name: String) -> String? { Spawn.findTool(name) }

  /// Runs a tool to its end with stdin from /dev/null; returns its exit status and output (each kept to
  /// its last `keep` bytes). Never throws for a non-zero exit: the caller words that.
  static func run(_ path: String, _ args: [String], keep: Int = 1 << 20) throws(HostError) -> (
    status: Int32, stdout: [UInt8], stderr: [UInt8]
  ) {
    let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { if devnull >= 0 { close(devnull) } }
    let out = try OwnedPipe()
    let err = try OwnedPipe()
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: path, argv: [path] + args, env: environment, stdin: devnull, stdout: out.write, stderr: err.write)
    } catch {
      throw HostError("run \(path)", error)
    }
    out.closeWrite()
    err.closeWrite()
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var open = [out.read, err.read]
    var chunk = [UInt8](repeating: 0, count: 65536)
    while !open.isEmpty {
      var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      for p in fds where p.revents != 0 {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(p.fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          open.removeAll { $0 == p.fd }
          continue
        }
        if p.fd == out.read { keepTail(&stdout, chunk[0..<n], keep) } else { keepTail(&stderr, chunk[0..<n], keep) }
      }
    }
    let status = (try? Processes.wait(pid)) ?? -1
    return (Processes.exitCode(status: status), stdout, stderr)
  }

  /// The last line of a tool's output, for an error message.
  static func lastLine(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).last.map(String.init) ?? ""
  }

  private static func keepTail(_ buffer: inout [UInt8], _ more: ArraySlice<UInt8>, _ keep: Int) {
    buffer.append(contentsOf: more)
    if buffer.count > keep { buffer.removeFirst(buffer.count - keep) }
  }
}

/// A close-on-exec pipe whose ends close when it goes away.
final class OwnedPipe {
  private(set) var read: Int32
  private(set) var write: Int32

  init() throws(HostError) {
    var fds: [Int32] = [-1, -1]
    if cella_pipe2(&fds, O_CLOEXEC) != 0 { throw HostError("pipe", path: "", errno: errno) }
    read = fds[0]
    write = fds[1]
  }

  func closeWrite() {
    if write >= 0 { close(write) }
    write = -1
  }

  func closeRead() {
    if read >= 0 { close(read) }
    read = -1
  }

  deinit {
    closeRead()
    closeWrite()
  }
}

/// A decompressor (`gzip -dc`, `zstd -dc`) as a byte source: input pumped into its stdin, output read
/// from its stdout, in one poll loop on the calling thread (no fork, no helper thread).
final class FilterProcess: ByteSource {
  private let input: ByteSource
  private let tool: String
  private var pid: pid_t = -1
  private var stdin: Int32 = -1
  private let stdout: OwnedPipe
  private let stderr: OwnedPipe
  private var pending: [UInt8] = []
  private var pendingAt = 0
  private var inputDone = false
  private var outputDone = false
  private var errText: [UInt8] = []

  init(tool: String, args: [String], input: ByteSource) throws(HostError) {
    self.input = input
    self.tool = tool
    stdout = try OwnedPipe()
    stderr = try OwnedPipe()
    // A socket rather than a pipe for its stdin: send(MSG_NOSIGNAL) to a tool that died is EPIPE, not
    // a SIGPIPE that would kill the daemon.
    var pair: [Int32] = [-1, -1]
    if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) != 0 {
      throw HostError("socketpair", path: tool, errno: errno)
    }
    defer { close(pair[1]) }
    stdin = pair[0]
    _ = shutdown(pair[1], Int32(SHUT_WR))
    do {
      pid = try Spawn.start(
        path: tool, argv: [tool] + args, env: HostTools.environment, stdin: pair[1], stdout: stdout.write,
        stderr: stderr.write)
    } catch {
      close(stdin)
      stdin = -1
      throw HostError("run \(tool)", error)
    }
    stdout.closeWrite()
    stderr.closeWrite()
    _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
  }

  deinit { stop() }

  /// Kills and reaps the tool if it still runs (after an error of the consumer).
  func stop() {
    closeStdin()
    if pid > 0 {
      kill(pid, SIGKILL)
      _ = try? Processes.wait(pid)
      pid = -1
    }
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(HostError) -> Int {
    if outputDone { return 0 }
    while true {
      var fds = [pollfd(fd: stdout.read, events: Int16(POLLIN), revents: 0)]
      if stderr.read >= 0 { fds.append(pollfd(fd: stderr.read, events: Int16(POLLIN), revents: 0)) }
      if stdin >= 0 { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        throw HostError("poll", path: tool, errno: errno)
      }
      for p in fds where p.revents != 0 {
        if p.fd == stdin {
          try feed()
        } else if p.fd == stderr.read {
          var chunk = [UInt8](repeating: 0, count: 4096)
          let n = chunk.withUnsafeMutableBytes { Glibc.read(p.fd, $0.baseAddress, $0.count) }
          if n <= 0 {
            if n == 0 || errno != EINTR { stderr.closeRead() }
          } else if errText.count < 4096 {
            errText.append(contentsOf: chunk[0..<n])
          }
        } else {
          let n = Glibc.read(stdout.read, buffer.baseAddress, buffer.count)
          if n > 0 { return n }
          if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
          try finish()
          return 0
        }
      }
    }
  }

  private func feed() throws(HostError) {
    if pendingAt == pending.count {
      if inputDone { return closeStdin() }
      pending = [UInt8](repeating: 0, count: 65536)
      let n = try input.read(into: &pending)
      pending.removeLast(pending.count - n)
      pendingAt = 0
      if n == 0 {
        inputDone = true
        return closeStdin()
      }
    }
    let n = pending.withUnsafeBytes {
      send(stdin, $0.baseAddress! + pendingAt, $0.count - pendingAt, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }
    if n > 0 {
      pendingAt += n
    } else if n < 0 && errno != EAGAIN && errno != EINTR {
      // The tool stopped reading (it failed, or found the end of its stream): its status tells.
      closeStdin()
    }
  }

  private func closeStdin() {
    if stdin >= 0 { close(stdin) }
    stdin = -1
  }

  private func finish() throws(HostError) {
    outputDone = true
    closeStdin()
    while stderr.read >= 0 {
      var chunk = [UInt8](repeating: 0, count: 4096)
      let n = chunk.withUnsafeMutableBytes { Glibc.read(stderr.read, $0.baseAddress, $0.count) }
      if n > 0 && errText.count < 4096 { errText.append(contentsOf: chunk[0..<n]) }
      if n == 0 || (n < 0 && errno != EINTR) { stderr.closeRead() }
    }
    let status = (try? Processes.wait(pid)) ?? -1
    pid = -1
    let code = Processes.exitCode(status: status)
    if code != 0 {
      let name = tool.split(separator: "/").last.map(String.init) ?? tool
      let why = HostTools.lastLine(errText)
      throw HostError(.invalidArgument, "\(name) -dc failed (exit \(code))\(why.isEmpty ? "" : ": " + why)")
    }
    // What the tool left unread (it stops at the end of its stream) still counts for the digest.
    if !inputDone { _ = try input.skip(UInt64.max) }
  }
}
