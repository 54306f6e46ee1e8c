import CShims
import CellaSys
import Glibc

/// One network's dnsmasq: started by the daemon, outliving it like the keepers, found again by its pid
/// file and its command line.
enum Dnsmasq {
  /// Debian's dnsmasq-base.
  static let executable = "/usr/sbin/dnsmasq"
  /// How long a stop waits for SIGTERM to work before SIGKILL.
  static let stopGrace: Int32 = 2000

  /// The user dnsmasq drops to after binding its sockets: `dnsmasq`, which dnsmasq-base's postinst
  /// makes, else `nobody` (the binary's compiled-in default). Never root: guests are untrusted and
  /// talk to it.
  static var user: String { getpwnam("dnsmasq") != nil ? "dnsmasq" : "nobody" }

  /// The one command line: everything else is in the configuration file.
  static func argv(_ paths: NetworkPaths) -> [String] { [executable, "--conf-file=\(paths.dnsmasqConfig)"] }

  /// Starts dnsmasq with the configuration in `paths` and returns its pid. dnsmasq forks itself: its
  /// first process exits only once the server has bound its sockets, dropped privileges and written
  /// its pid file, with status 0, or with its reason on stderr, which becomes the one-line error.
  static func start(_ paths: NetworkPaths) throws(HostError) -> Int32 {
    guard access(executable, X_OK) == 0 else {
      throw HostError(.notFound, "\(executable): not found; install dnsmasq-base (apt-get install dnsmasq-base)")
    }
    var errPipe: [Int32] = [-1, -1]
    guard cella_pipe2(&errPipe, O_CLOEXEC) == 0 else { throw HostError("pipe for", path: executable, errno: errno) }
    defer { for fd in errPipe where fd >= 0 { close(fd) } }
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    guard null >= 0 else { throw HostError("open", path: "/dev/null", errno: errno) }
    defer { close(null) }
    let pid: pid_t
    do {
      pid = try Spawn.start(
        path: executable, argv: argv(paths), env: Spawn.toolEnvironment, stdin: null,
        stdout: null, stderr: errPipe[1], newSession: true, closeOthers: true)
    } catch {
      throw HostError("start dnsmasq", error)
    }
    close(errPipe[1])
    errPipe[1] = -1
    // The server (dnsmasq's grandchild) may keep the pipe's write end: read only what the first
    // process left before it exited, never wait for EOF.
    let status = (try? Processes.wait(pid)) ?? -1
    _ = fcntl(errPipe[0], F_SETFL, O_NONBLOCK)
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = read(errPipe[0], &buffer, buffer.count)
    let said = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    let code = Processes.exitCode(status: status)
    guard code == 0 else {
      let line = said.split(separator: "\n").first.map(String.init) ?? "exit status \(code)"
      throw HostError(.system, "dnsmasq: \(line.hasPrefix("dnsmasq: ") ? String(line.dropFirst(9)) : line)")
    }
    guard let server = running(paths) else {
      throw HostError(.system, "dnsmasq started but \(paths.dnsmasqPID) names no running dnsmasq")
    }
    return server
  }

  /// The pid of the dnsmasq serving `paths`, if one runs: the pid file's process must be dnsmasq and
  /// have been started with this network's configuration file, so a reused pid is never taken for it.
  static func running(_ paths: NetworkPaths) -> Int32? {
    guard let text = try? FileIO.readString(paths.dnsmasqPID),
      let pid = Int32(text.trimmingCharacters(in: " \n")), pid > 0
    else { return nil }
    return isServer(pid, paths) ? pid : nil
  }

  /// Whether `pid` is a live dnsmasq started by `argv(paths)`.
  static func isServer(_ pid: Int32, _ paths: NetworkPaths) -> Bool {
    guard let stat = ProcStat.read(pid), stat.state != "Z", stat.state != "X",
      let exe = InRoot.readLink(dirfd: AT_FDCWD, "/proc/\(pid)/exe"),
      exe == resolvedExecutable,
      let cmdline = try? FileIO.read("/proc/\(pid)/cmdline")
    else { return false }
    let words = cmdline.split(separator: 0, omittingEmptySubsequences: false).map {
      String(decoding: $0, as: UTF8.self)
    }
    return words.dropFirst().first == argv(paths)[1]
  }

  /// The executable's real path, as /proc/PID/exe shows it.
  static var resolvedExecutable: String {
    guard let p = realpath(executable, nil) else { return executable }
    defer { free(p) }
    return String(cString: p)
  }

  /// Tells a running dnsmasq to re-read its lease and name files.
  static func reload(_ paths: NetworkPaths) {
    if let pid = running(paths) { kill(pid, SIGHUP) }
  }

  /// Ends the network's dnsmasq, if one runs: SIGTERM, then SIGKILL after `stopGrace` ms.
  static func stop(_ paths: NetworkPaths) {
    guard let pid = running(paths), let fd = try? FileDescriptor.pidfd(pid) else { return }
    kill(pid, SIGTERM)
    var p = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
    if poll(&p, 1, stopGrace) <= 0 {
      kill(pid, SIGKILL)
      _ = poll(&p, 1, stopGrace)
    }
  }
}
