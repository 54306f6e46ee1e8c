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

  /// Where nft is looked for when no path is given.
  public static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
  static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]

  /// An applier running `nft` (found in `searchPath` when nil), after `prefix` if given.
  public init(nft: String? = nil, prefix: [String] = []) throws(NetError) {
    if let nft {
      self.nft = nft
    } else if let found = Self.searchPath.map({ $0 + "/nft" }).first(where: { access($0, X_OK) == 0 }) {
      self.nft = found
    } else {
      throw NetError(
        .unsupported,
        "nft not found in \(Self.searchPath.joined(separator: ", ")): install nftables (apt-get install nftables)")
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
  /// large rule set fills a pipe before nft has read it all). Its stdin is a socket written with
  /// MSG_NOSIGNAL: an nft that dies early gives EPIPE, not a SIGPIPE that would kill the daemon.
  static func spawn(_ argv: [String], input: [UInt8]) throws(NetError) -> (
    status: Int32, stdout: [UInt8], stderr: [UInt8]
  ) {
    var pair: [Int32] = [-1, -1]
    var out: [Int32] = [-1, -1]
    var err: [Int32] = [-1, -1]
    defer { for fd in pair + out + err where fd >= 0 { close(fd) } }
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
      throw NetError("socketpair for nft", errno: errno)
    }
    guard cella_pipe2(&out, O_CLOEXEC) == 0, cella_pipe2(&err, O_CLOEXEC) == 0 else {
      throw NetError("pipe for nft", errno: errno)
    }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: argv[0], argv: argv, env: environment, stdin: pair[1], stdout: out[1], stderr: err[1], closeOthers: true)
    } catch {
      throw NetError(error.kind, "run \(error.message)")
    }
    for i in [1] {
      close(pair[i]); pair[i] = -1
      close(out[i]); out[i] = -1
      close(err[i]); err[i] = -1
    }
    _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
    if input.isEmpty { _ = shutdown(pair[0], Int32(SHUT_WR)) }
    var written = input.isEmpty ? -1 : 0
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while out[0] >= 0 || err[0] >= 0 {
      var fds: [pollfd] = []
      if out[0] >= 0 { fds.append(pollfd(fd: out[0], events: Int16(POLLIN), revents: 0)) }
      if err[0] >= 0 { fds.append(pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)) }
      if written >= 0 { fds.append(pollfd(fd: pair[0], events: Int16(POLLOUT), revents: 0)) }
      if poll(&fds, nfds_t(fds.count), -1) < 0 {
        if errno == EINTR { continue }
        break
      }
      for p in fds where p.revents != 0 {
        if p.fd == pair[0] {
          let n = input.withUnsafeBytes {
            send(pair[0], $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
          }
          if n > 0 { written += n }
          if (n < 0 && errno != EAGAIN && errno != EINTR) || written >= input.count {
            // Done, or nft stopped reading (it will say why on stderr).
            _ = shutdown(pair[0], Int32(SHUT_WR))
            written = -1
          }
          continue
        }
        let n = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          if p.fd == out[0] { close(out[0]); out[0] = -1 } else { close(err[0]); err[0] = -1 }
          continue
        }
        if p.fd == out[0] { stdout += chunk[0..<n] } else { stderr += chunk[0..<n] }
      }
    }
    let status = (try? Processes.wait(pid)) ?? -1
    return (Processes.exitCode(status: status), stdout, stderr)
  }
}
