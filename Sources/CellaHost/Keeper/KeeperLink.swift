import CShims
import CellaErrors
import CellaRuntimeCore
import CellaSys
import Foundation

/// The daemon's side of `cella-keeper`: spawning one for a guest, finding a live one, attaching to its
/// console, reading how its guest ended.
public struct KeeperLink: Sendable {
  public let keeperPath: String
  public let runtimePath: String
  public let runtimeRoot: String
  /// How long `start` waits for the keeper's result line before killing it (create takes ~20 ms).
  public var resultTimeout: Int = 60

  public init(keeperPath: String, runtimePath: String, runtimeRoot: String) {
    self.keeperPath = keeperPath
    self.runtimePath = runtimePath
    self.runtimeRoot = runtimeRoot
  }

  /// Spawns the keeper for `id` in guest dir `paths.dir`; blocks until it reports; returns init's pid and the
  /// keeper's pid (the caller's child from then on: it reaps it), or throws the runtime's error.
  /// `passing` fds become the guest process's 3, 4, … (through the keeper and `--preserve-fds`).
  /// `vmEvents`: the QMP event socket a VM's QEMU connects to, relative to the guest dir.
  public func start(
    id: String, paths: GuestPaths, bundle: String, logMax: Int, passing: [Int32] = [], vmEvents: String? = nil
  ) throws(HostError) -> (keeper: Int32, initPID: Int32) {
    if Self.isAlive(paths: paths) {
      throw HostError(.invalidState, "guest \(id): a keeper runs already (\(paths.keeperLock) is held)")
    }
    let logOffset = RuntimeLog.size(paths.runtimeLog)
    let (keeper, result) = try spawn(
      id: id, paths: paths, bundle: bundle, logMax: logMax, passing: passing, vmEvents: vmEvents)
    defer { close(result) }
    let deadline = Self.now() + Double(resultTimeout)
    guard let line = Self.readLine(result, until: deadline) else {
      kill(keeper, SIGKILL)
      Self.reap(keeper, until: Self.now() + 5)
      // It may have created the container before it wedged.
      _ = try? runRuntime(["delete", "--force", id], until: Self.now() + 30)
      throw HostError(.system, "guest \(id): cella-keeper did not report within \(resultTimeout) s and was killed")
    }
    let words = line.split(separator: " ")
    if words.count == 2, words[0] == "ok", let initPID = Int32(words[1]), initPID > 0 {
      return (keeper, initPID)
    }
    // A failed keeper deletes what the runtime left, then exits: wait for that so nothing is left.
    let status = Self.reap(keeper, until: Self.now() + 30)
    if words.count == 3, words[0] == "fail", words[1] == "create" || words[1] == "start", let code = Int32(words[2]) {
      throw runtimeError(verb: String(words[1]), status: code, logOffset: logOffset, paths: paths)
    }
    let why = ConsoleTail.lastLine(paths.keeperLog) ?? "no error on \(paths.keeperLog)"
    let ended = status.map { " (exit status \(Processes.exitCode(status: $0)))" } ?? ""
    throw HostError(.system, "guest \(id): cella-keeper failed\(ended): \(why)")
  }

  /// Whether a keeper runs for this guest: someone holds keeper.lock exclusively. The test takes a
  /// shared lock, so checks running at once never see each other as a keeper (the keeper retries its
  /// own lock for a moment when a check holds it just then).
  public static func isAlive(paths: GuestPaths) -> Bool {
    let fd = open(paths.keeperLock, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 {
      flock(fd, LOCK_UN)
      return false
    }
    return errno == EWOULDBLOCK
  }

  /// A connected stream socket to the guest's keeper.sock (through the directory's fd, so that a long
  /// state dir never overflows a socket path); the caller closes it.
  public static func connect(paths: GuestPaths) throws(HostError) -> Int32 {
    let dir = open(paths.dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
    if dir < 0 {
      if errno == ENOENT { throw HostError(.notFound, "guest directory \(paths.dir) does not exist") }
      throw HostError("open", path: paths.dir, errno: errno)
    }
    defer { close(dir) }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw HostError("socket for", path: paths.keeperSocket, errno: errno) }
    let rc = withSocketAddress("/proc/self/fd/\(dir)/\(GuestPaths.keeperSocket)") { Glibc.connect(fd, $0, $1) }
    if rc != 0 {
      let e = errno
      close(fd)
      if e == ENOENT || e == ECONNREFUSED {
        throw HostError(
          .invalidState, "no keeper is running for \(paths.dir) (\(GuestPaths.keeperSocket): \(ErrorText.errno(e)))")
      }
      throw HostError("connect", path: paths.keeperSocket, errno: e)
    }
    return fd
  }

  /// How the guest's init ended (exit.json), or nil when the keeper has not recorded it.
  public static func readExit(paths: GuestPaths) -> KeeperExit? {
    guard let bytes = try? FileIO.read(paths.exitFile, limit: 4096),
      let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
      let time = object["time"] as? String
    else { return nil }
    let code = (object["code"] as? NSNumber)?.intValue
    let signal = (object["signal"] as? NSNumber)?.intValue
    guard (code == nil) != (signal == nil) else { return nil }
    return KeeperExit(code: code, signal: signal, time: time, event: object["event"] as? String)
  }

  // MARK: - internals

  /// Spawns the keeper: new session, cwd the guest dir, stdin /dev/null, stdout the result pipe, stderr
  /// keeper.log, no other fd of the daemon. Returns its pid and the pipe's read end.
  private func spawn(
    id: String, paths: GuestPaths, bundle: String, logMax: Int, passing: [Int32], vmEvents: String?
  ) throws(HostError) -> (Int32, Int32) {
    var ends: [Int32] = [-1, -1]
    if cella_pipe2(&ends, O_CLOEXEC) != 0 { throw HostError("pipe for", path: keeperPath, errno: errno) }
    defer { close(ends[1]) }
    do {
      let null = try FileDescriptor.open("/dev/null", flags: O_RDONLY)
      let log = try FileDescriptor.open(paths.keeperLog, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
      let argv =
        [
          keeperPath, "--runtime", runtimePath, "--root", runtimeRoot, "--id", id, "--bundle", bundle, "--log-max",
          String(logMax),
        ] + (passing.isEmpty ? [] : ["--preserve-fds", String(passing.count)])
        + (vmEvents.map { ["--vm-events", $0] } ?? [])
      let pid = try Spawn.start(
        path: keeperPath, argv: argv, env: Self.environment(), stdin: null.rawValue, stdout: ends[1],
        stderr: log.rawValue, cwd: paths.dir, newSession: true, closeOthers: true, passing: passing)
      return (pid, ends[0])
    } catch {
      close(ends[0])
      throw HostError("guest \(id): start cella-keeper", error)
    }
  }

  /// The error of a failed `create` or `start`: kind and text from runtime.log, the kind from the exit
  /// status when it says the executable is missing (127) or not runnable (126).
  private func runtimeError(verb: String, status: Int32, logOffset: Int, paths: GuestPaths) -> HostError {
    let logged = RuntimeLog.lastError(paths.runtimeLog, after: logOffset)
    let kind: ErrorKind =
      switch status {
      case 127: .executableNotFound
      case 126: .executableNotRunnable
      default: logged?.kind ?? .system
      }
    return HostError(kind, logged?.message ?? "cella-runtime \(verb) exited with status \(status)")
  }

  /// Runs the runtime on this store's root (stdio on /dev/null), waiting up to `deadline`.
  private func runRuntime(_ arguments: [String], until deadline: Double) throws(SysError) -> Int32? {
    let null = try FileDescriptor.open("/dev/null", flags: O_RDWR)
    let pid = try Spawn.start(
      path: runtimePath, argv: [runtimePath, "--root", runtimeRoot] + arguments, env: Self.environment(),
      stdin: null.rawValue, stdout: null.rawValue, stderr: null.rawValue, closeOthers: true)
    return Self.reap(pid, until: deadline)
  }

  /// Everything the keeper writes before closing its stdout (one line), or nil on the deadline.
  private static func readLine(_ fd: Int32, until deadline: Double) -> String? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 512)
    while bytes.count < 4096 {
      let left = Int32(max(0, min(deadline - now(), 3600)) * 1000)
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&p, 1, left)
      if ready < 0 && errno == EINTR { continue }
      if ready <= 0 { return nil }
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n")
  }

  /// Waits for a child until `deadline`, then kills it; returns its wait status (nil if it was not ours).
  @discardableResult
  private static func reap(_ pid: Int32, until deadline: Double) -> Int32? {
    var status: Int32 = 0
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid { return status }
      if r < 0 && errno != EINTR { return nil }
      if now() >= deadline {
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 {
          if errno != EINTR { return nil }
        }
        return status
      }
      usleep(5000)
    }
  }

  /// Seconds on the monotonic clock.
  private static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// The daemon's environment, which the keeper hands on to the runtime (hooks see it).
  private static func environment() -> [String] {
    ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
  }
}

extension KeeperLink {
  /// The pid of the keeper serving `paths` (its socket's peer credentials), nil when none answers.
  public static func peerPID(paths: GuestPaths) -> Int32? {
    guard let fd = try? connect(paths: paths) else { return nil }
    defer { close(fd) }
    return socketPeerPID(fd)
  }
}
