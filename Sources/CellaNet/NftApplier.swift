import CShims
import CellaErrors
import CellaSys
import Glibc

/// Loads rule sets into the kernel by running `nft -j -f -`, and reads cella's tables back.
///
/// A spawned nft rather than libnftables in the daemon: the daemon stays free of a C library that keeps
/// global state, and nft's exit status and stderr give the error. Safe from any thread (posix_spawn,
/// no fork, no change to the calling process).
public struct NftApplier: Sendable {
  /// The nft executable.
  public let nft: String
  /// Words run before nft (tests: `ip netns exec NAME`, to act in a namespace of their own).
  public let prefix: [String]

  /// An applier running `nft` (found among the host tools when nil), after `prefix` if given.
  public init(nft: String? = nil, prefix: [String] = []) throws(NetError) {
    if let nft {
      self.nft = nft
    } else if let found = Spawn.findTool("nft") {
      self.nft = found
    } else {
      throw NetError(
        .unsupported,
        "nft not found in \(Spawn.toolDirectories.joined(separator: ", ")): install nftables (apt-get install nftables)"
      )
    }
    self.prefix = prefix
  }

  /// Replaces cella's tables with those of `model` in one transaction.
  public func replace(with model: NftModel) throws(NetError) {
    try apply(NftRuleset.build(model))
  }

  /// Removes cella's tables, if any.
  public func removeTables() throws(NetError) {
    try apply(NftRuleset.removal())
  }

  /// Runs `commands` as one nft transaction: all take effect or none does.
  public func apply(_ commands: [NftJSON]) throws(NetError) {
    _ = try run(["-j", "-f", "-"], input: Array(NftRuleset.document(commands).utf8))
  }

  /// `nft -j list table FAMILY cella`: the table as JSON text; not-found if it does not exist.
  public func listTable(family: String) throws(NetError) -> String {
    String(decoding: try run(["-j", "list", "table", family, NftRuleset.tableName], input: []), as: UTF8.self)
  }

  /// `nft -j list chain FAMILY TABLE CHAIN`: the chain as JSON text; not-found if it (or its table) does not exist.
  public func listChain(family: String, table: String, chain: String) throws(NetError) -> String {
    String(decoding: try run(["-j", "list", "chain", family, table, chain], input: []), as: UTF8.self)
  }

  /// Runs nft with `args`, feeding `input` to its stdin; returns its stdout, or throws its first error line.
  func run(_ args: [String], input: [UInt8]) throws(NetError) -> [UInt8] {
    let argv = prefix.isEmpty ? [nft] + args : prefix + [nft] + args
    let result = try Self.spawn(argv, input: input)
    guard result.status == 0 else {
      throw NetError(
        Self.kind(result.stderr),
        "nft \(args.joined(separator: " ")): \(Self.firstError(result.stderr, status: result.status))")
    }
    return result.stdout
  }

  /// The kind an nft failure most plausibly means, from its message.
  static func kind(_ stderr: [UInt8]) -> ErrorKind {
    let text = String(decoding: stderr, as: UTF8.self)
    if text.contains("No such file or directory") { return .notFound }
    if text.contains("Operation not permitted") { return .permission }
    if text.contains("Operation not supported") || text.contains("Protocol not supported") { return .unsupported }
    return .system
  }

  /// nft's first line that says "Error", else its first non-empty line: nft follows an error with the
  /// offending input and a line of carets, which add nothing to one line.
  static func firstError(_ stderr: [UInt8], status: Int32) -> String {
    let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n").map {
      $0.trimmingCharacters(in: " \t\r")
    }
    if let line = lines.first(where: { $0.contains("Error:") }) {
      return String(line[line.firstRange(of: "Error:")!.upperBound...]).trimmingCharacters(in: " ")
    }
    return lines.first(where: { !$0.isEmpty }) ?? "exit status \(status)"
  }

  /// Spawns `argv` and pumps `input` into it while draining its stdout and stderr in one poll loop (a
  /// large rule set fills a pipe before nft has read it all). Its stdin must be a pipe or a file: nft
  /// opens /dev/stdin, which fails for a socket. SIGPIPE is blocked in the calling thread while it
  /// writes (and one that came is taken back), so an nft that dies early gives EPIPE rather than a
  /// signal that would kill the process; other threads and the process's dispositions are untouched.
  static func spawn(_ argv: [String], input: [UInt8]) throws(NetError) -> (
    status: Int32, stdout: [UInt8], stderr: [UInt8]
  ) {
    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    defer { for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) } }
    guard cella_pipe2(&inPipe, O_CLOEXEC) == 0, cella_pipe2(&outPipe, O_CLOEXEC) == 0,
      cella_pipe2(&errPipe, O_CLOEXEC) == 0
    else { throw NetError("pipe for nft", errno: errno) }
    var sigpipe = sigset_t()
    sigemptyset(&sigpipe)
    sigaddset(&sigpipe, SIGPIPE)
    var savedMask = sigset_t()
    pthread_sigmask(SIG_BLOCK, &sigpipe, &savedMask)
    defer {
      var pending = sigset_t()
      sigpending(&pending)
      if sigismember(&savedMask, SIGPIPE) == 0 && sigismember(&pending, SIGPIPE) == 1 {
        var now = timespec()
        _ = sigtimedwait(&sigpipe, nil, &now)
      }
      pthread_sigmask(SIG_SETMASK, &savedMask, nil)
    }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: argv[0], argv: argv, env: Spawn.toolEnvironment, stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1],
        closeOthers: true)
    } catch {
      throw NetError(error.kind, "run \(error.message)")
    }
    // The child's ends: closed here so that EOF and EPIPE come when the child is done.
    for fd in [inPipe[0], outPipe[1], errPipe[1]] { close(fd) }
    inPipe[0] = -1
    outPipe[1] = -1
    errPipe[1] = -1
    _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
    var written = 0
    if input.isEmpty {
      close(inPipe[1])
      inPipe[1] = -1
    }
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while outPipe[0] >= 0 || errPipe[0] >= 0 {
      var fds: [pollfd] = []
      for fd in [outPipe[0], errPipe[0]] where fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
      if inPipe[1] >= 0 { fds.append(pollfd(fd: inPipe[1], events: Int16(POLLOUT), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      for p in fds where p.revents != 0 {
        if p.fd == inPipe[1] {
          let n = input.withUnsafeBytes { write(inPipe[1], $0.baseAddress! + written, $0.count - written) }
          if n > 0 { written += n }
          if (n < 0 && errno != EAGAIN && errno != EINTR) || written >= input.count {
            // Done, or nft stopped reading (it says why on stderr).
            close(inPipe[1])
            inPipe[1] = -1
          }
          continue
        }
        let n = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        let isOut = p.fd == outPipe[0]
        if n <= 0 {
          close(p.fd)
          if isOut { outPipe[0] = -1 } else { errPipe[0] = -1 }
        } else if isOut {
          stdout += chunk[0..<n]
        } else {
          stderr += chunk[0..<n]
        }
      }
    }
    let status = (try? Processes.wait(pid)) ?? -1
    return (Processes.exitCode(status: status), stdout, stderr)
  }
}
