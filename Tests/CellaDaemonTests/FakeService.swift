import CShims
import CellaAPI
import CellaErrors
import CellaSys
import Glibc

/// A `CellaService` that records each call and answers with canned models: the daemon's routing and
/// bridging are tested against it (the real one, CellaHost's Manager, has its own tests).
final class FakeService: CellaService, @unchecked Sendable {
  private let lock = NSLockish()
  private var _calls: [String] = []
  private var _failures: [String: any Error] = [:]
  /// What `attachConsole` hands out.
  var console = ConsoleAttachment(history: [], keeper: nil)
  /// The shell script `startExec` runs through /bin/sh -c, with pipes.
  var execScript = "cat; echo err >&2; exit 7"
  private var _resizes: [(Int, Int)] = []

  var calls: [String] { lock.locked { _calls } }
  var resizes: [(Int, Int)] { lock.locked { _resizes } }

  /// Makes the method named `method` (e.g. "guestInfo") throw `error`.
  func fail(_ method: String, with error: any Error) { lock.locked { _failures[method] = error } }

  private func record(_ call: String, _ method: String) throws {
    try lock.locked {
      _calls.append(call)
      if let error = _failures[method] { throw error }
    }
  }

  static func guest(_ name: String) -> GuestInfo {
    GuestInfo(
      name: name, kind: .container, status: .running, pid: 42, image: "bb", profiles: [], config: [:],
      effectiveConfig: [:], command: nil, created: "2025-01-01T00:00:00Z", started: nil, usage: nil, lastExit: nil,
      restartCount: 0, error: nil)
  }

  static func image(_ name: String) -> ImageInfo {
    ImageInfo(
      name: name, source: .busybox, origin: nil, created: "2025-01-01T00:00:00Z", size: 1, process: ImageProcess(),
      usedBy: [])
  }

  func daemonInfo() -> DaemonInfo {
    try? record("daemonInfo()", "daemonInfo")
    return DaemonInfo(version: "test", stateDir: "/x", socket: "/y", pid: Int(getpid()))
  }

  func listGuests() throws -> [GuestSummary] {
    try record("listGuests()", "listGuests")
    return [GuestSummary(name: "web", kind: .container, status: .running, pid: 42, image: "bb")]
  }
  func guestInfo(_ name: String) throws -> GuestInfo {
    try record("guestInfo(\(name))", "guestInfo")
    // A slow call: what makes an answer overtake an earlier one if the daemon let requests overlap.
    if name == "slow" { usleep(300_000) }
    return Self.guest(name)
  }
  func createGuest(_ request: CreateGuestRequest) throws -> GuestInfo {
    try record(
      "createGuest(\(request.name),\(request.image ?? "-"),\(request.config ?? [:]),\(request.start ?? false))",
      "createGuest")
    return Self.guest(request.name)
  }
  func startGuest(_ name: String) throws -> GuestInfo {
    try record("startGuest(\(name))", "startGuest")
    return Self.guest(name)
  }
  func stopGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo {
    try record("stopGuest(\(name),\(request.timeout.map(String.init) ?? "nil"),\(request.force ?? false))", "stopGuest")
    return Self.guest(name)
  }
  func restartGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo {
    try record("restartGuest(\(name),\(request.timeout.map(String.init) ?? "nil"))", "restartGuest")
    return Self.guest(name)
  }
  func killGuest(_ name: String, _ request: KillRequest) throws -> GuestInfo {
    try record("killGuest(\(name),\(request.signal ?? "nil"))", "killGuest")
    return Self.guest(name)
  }
  func deleteGuest(_ name: String, force: Bool) throws { try record("deleteGuest(\(name),\(force))", "deleteGuest") }

  func guestConfig(_ name: String) throws -> GuestConfig {
    try record("guestConfig(\(name))", "guestConfig")
    return GuestConfig(config: ["a": "1"], effectiveConfig: ["a": "1"])
  }
  func patchGuestConfig(_ name: String, _ patch: ConfigPatch) throws -> GuestConfig {
    try record("patchGuestConfig(\(name),\(patch.set ?? [:]),\(patch.unset ?? []))", "patchGuestConfig")
    return GuestConfig(config: patch.set ?? [:], effectiveConfig: patch.set ?? [:])
  }
  func replaceGuestConfig(_ name: String, _ replace: ConfigReplace) throws -> GuestConfig {
    try record("replaceGuestConfig(\(name),\(replace.config))", "replaceGuestConfig")
    return GuestConfig(config: replace.config, effectiveConfig: replace.config)
  }

  func logs(_ name: String) throws -> [UInt8] {
    try record("logs(\(name))", "logs")
    return Array("boot ok\n".utf8)
  }
  func attachConsole(_ name: String, history: Bool) throws -> ConsoleAttachment {
    try record("attachConsole(\(name),\(history))", "attachConsole")
    let console = lock.locked { self.console }
    return ConsoleAttachment(history: history ? console.history : [], keeper: console.keeper)
  }

  func prepareExec(_ name: String, _ request: ExecRequest) throws -> ExecSession {
    try record("prepareExec(\(name),\(request.command))", "prepareExec")
    return ExecSession(id: "e1")
  }
  func startExec(_ id: String) throws -> ExecProcess {
    try record("startExec(\(id))", "startExec")
    var stdin: [Int32] = [0, 0]
    var stdout: [Int32] = [0, 0]
    var stderr: [Int32] = [0, 0]
    guard cella_pipe2(&stdin, O_CLOEXEC) == 0, cella_pipe2(&stdout, O_CLOEXEC) == 0,
      cella_pipe2(&stderr, O_CLOEXEC) == 0
    else {
      throw APIError(.system, "pipe")
    }
    let pid = try Spawn.start(
      path: "/bin/sh", argv: ["sh", "-c", execScript], env: ["PATH=/usr/bin:/bin"], stdin: stdin[0],
      stdout: stdout[1], stderr: stderr[1])
    close(stdin[0])
    close(stdout[1])
    close(stderr[1])
    return ExecProcess(pid: pid, stdin: stdin[1], stdout: stdout[0], stderr: stderr[0])
  }
  func resizeExec(_ process: ExecProcess, rows: Int, cols: Int) { lock.locked { _resizes.append((rows, cols)) } }
  func waitExec(_ process: ExecProcess) -> ExecExit {
    var status: Int32 = 0
    while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return ExecExit(code: Int((status >> 8) & 0xff)) }
    return ExecExit(signal: Int(status & 0x7f))
  }

  func listImages() throws -> [ImageInfo] {
    try record("listImages()", "listImages")
    return [Self.image("bb")]
  }
  func imageInfo(_ name: String) throws -> ImageInfo {
    try record("imageInfo(\(name))", "imageInfo")
    return Self.image(name)
  }
  func buildImage(_ request: BuildImageRequest) throws -> ImageInfo {
    try record("buildImage(\(request.source.rawValue),\(request.name),\(request.suite ?? "nil"))", "buildImage")
    return Self.image(request.name)
  }
  func importImage(_ request: ImportImageRequest) throws -> ImageInfo {
    try record("importImage(\(request.file),\(request.name))", "importImage")
    return Self.image(request.name)
  }
  func deleteImage(_ name: String) throws { try record("deleteImage(\(name))", "deleteImage") }

  func listProfiles() throws -> [ProfileInfo] {
    try record("listProfiles()", "listProfiles")
    return [ProfileInfo(name: "default", config: [:])]
  }
  func profile(_ name: String) throws -> ProfileInfo {
    try record("profile(\(name))", "profile")
    return ProfileInfo(name: name, config: [:])
  }
  func createProfile(_ request: CreateProfileRequest) throws -> ProfileInfo {
    try record("createProfile(\(request.name),\(request.config ?? [:]))", "createProfile")
    return ProfileInfo(name: request.name, config: request.config ?? [:])
  }
  func patchProfile(_ name: String, _ patch: ConfigPatch) throws -> ProfileInfo {
    try record("patchProfile(\(name),\(patch.set ?? [:]),\(patch.unset ?? []))", "patchProfile")
    return ProfileInfo(name: name, config: patch.set ?? [:])
  }
  func replaceProfile(_ name: String, _ replace: ConfigReplace) throws -> ProfileInfo {
    try record("replaceProfile(\(name),\(replace.config))", "replaceProfile")
    return ProfileInfo(name: name, config: replace.config)
  }
  func deleteProfile(_ name: String) throws { try record("deleteProfile(\(name))", "deleteProfile") }

  static func network(_ name: String) -> NetworkInfo {
    NetworkInfo(
      name: name, subnet: "10.210.0.0/24", gateway: "10.210.0.1", nat: true, isolated: false, bridge: "cb-\(name)",
      created: "2026-01-01T00:00:00Z")
  }
  func listNetworks() throws -> [NetworkInfo] {
    try record("listNetworks()", "listNetworks")
    return [Self.network("lan")]
  }
  func network(_ name: String) throws -> NetworkInfo {
    try record("network(\(name))", "network")
    return Self.network(name)
  }
  func createNetwork(_ request: CreateNetworkRequest) throws -> NetworkInfo {
    try record(
      "createNetwork(\(request.name),\(request.subnet ?? "nil"),\(request.gateway ?? "nil"),\(request.nat.map(String.init) ?? "nil"),\(request.isolated.map(String.init) ?? "nil"))",
      "createNetwork")
    return Self.network(request.name)
  }
  func deleteNetwork(_ name: String) throws { try record("deleteNetwork(\(name))", "deleteNetwork") }

  func listPorts(_ guest: String) throws -> [PublishedPortInfo] {
    try record("listPorts(\(guest))", "listPorts")
    return []
  }
  func addPort(_ guest: String, _ request: AddPortRequest) throws -> PublishedPortInfo {
    try record("addPort(\(guest),\(request.hostPort),\(request.guestPort))", "addPort")
    return PublishedPortInfo(
      proto: request.proto ?? "tcp", hostPort: request.hostPort, guestPort: request.guestPort,
      hostAddress: request.hostAddress)
  }
  func removePort(_ guest: String, proto: String, hostPort: Int, hostAddress: String?) throws {
    try record("removePort(\(guest),\(proto),\(hostPort),\(hostAddress ?? "*"))", "removePort")
  }
}

/// A pthread mutex (the test target has no Foundation lock it wants to depend on).
final class NSLockish: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  init() { pthread_mutex_init(mutex, nil) }
  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }
  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }
}
