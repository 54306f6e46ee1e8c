/// What the daemon serves: every API route is one call of this, so the CLI, the REST API and the tests
/// all reach the same code. Calls block (they spawn, wait and write files); the daemon runs them off
/// its event loops. Errors are `KindedError`s; the daemon answers them as `ErrorEnvelope`.
public protocol CellaService: Sendable {
  func daemonInfo() -> DaemonInfo

  func listGuests() throws -> [GuestSummary]
  func guestInfo(_ name: String) throws -> GuestInfo
  /// Creates a guest; with `request.start` also starts it, and returns once it runs.
  func createGuest(_ request: CreateGuestRequest) throws -> GuestInfo
  /// Returns once the guest runs (its keeper reported the runtime's `start`).
  func startGuest(_ name: String) throws -> GuestInfo
  /// Returns once the guest has stopped.
  func stopGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo
  func restartGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo
  func killGuest(_ name: String, _ request: KillRequest) throws -> GuestInfo
  func deleteGuest(_ name: String, force: Bool) throws

  func guestConfig(_ name: String) throws -> GuestConfig
  func patchGuestConfig(_ name: String, _ patch: ConfigPatch) throws -> GuestConfig
  func replaceGuestConfig(_ name: String, _ replace: ConfigReplace) throws -> GuestConfig

  /// The console history kept on disk (at most twice `console.buffer`).
  func logs(_ name: String) throws -> [UInt8]
  /// A connection to the guest's console: its history if asked, then, while it runs, a socket to its
  /// keeper that speaks `StreamFrame`s (stdin and resize in, stdout and exit out).
  func attachConsole(_ name: String, history: Bool) throws -> ConsoleAttachment

  /// Checks an exec request against the guest and keeps it under a new session id.
  func prepareExec(_ name: String, _ request: ExecRequest) throws -> ExecSession
  /// Spawns the session's process (`cella-runtime exec`); the caller owns the returned fds.
  func startExec(_ id: String) throws -> ExecProcess
  /// Sets the terminal size of a process started with a terminal.
  func resizeExec(_ process: ExecProcess, rows: Int, cols: Int)
  /// Blocks until the process has ended and reaps it: its exit code or signal.
  func waitExec(_ process: ExecProcess) -> ExecExit

  func listImages() throws -> [ImageInfo]
  func imageInfo(_ name: String) throws -> ImageInfo
  func buildImage(_ request: BuildImageRequest) throws -> ImageInfo
  func importImage(_ request: ImportImageRequest) throws -> ImageInfo
  func deleteImage(_ name: String) throws

  func listProfiles() throws -> [ProfileInfo]
  func profile(_ name: String) throws -> ProfileInfo
  func createProfile(_ request: CreateProfileRequest) throws -> ProfileInfo
  func patchProfile(_ name: String, _ patch: ConfigPatch) throws -> ProfileInfo
  func replaceProfile(_ name: String, _ replace: ConfigReplace) throws -> ProfileInfo
  func deleteProfile(_ name: String) throws

  func listNetworks() throws -> [NetworkInfo]
  func network(_ name: String) throws -> NetworkInfo
  /// Creates the network: its bridge, firewall rules and dnsmasq; returns once they are all in place.
  func createNetwork(_ request: CreateNetworkRequest) throws -> NetworkInfo
  /// Removes the network and everything it made; refused while a guest names it.
  func deleteNetwork(_ name: String) throws

  func listPorts(_ guest: String) throws -> [PublishedPortInfo]
  func addPort(_ guest: String, _ request: AddPortRequest) throws -> PublishedPortInfo
  func removePort(_ guest: String, proto: String, hostPort: Int, hostAddress: String?) throws
}

/// A console connection handed to the daemon: raw fds it now owns.
public struct ConsoleAttachment: Sendable {
  /// Console output kept on disk, sent first when history was asked for.
  public var history: [UInt8]
  /// A connected socket to the keeper (stream frames), or nil when the guest is not running.
  public var keeper: Int32?
  public init(history: [UInt8], keeper: Int32?) {
    self.history = history
    self.keeper = keeper
  }
}

/// A process started by exec: its pid and the daemon's ends of its stdio.
public struct ExecProcess: Sendable {
  /// The spawned `cella-runtime exec` (its exit status is the process's).
  public var pid: Int32
  /// Without a terminal: write end of its stdin, read ends of its stdout and stderr.
  public var stdin: Int32?
  public var stdout: Int32?
  public var stderr: Int32?
  /// With a terminal: the pty master (read and write).
  public var terminal: Int32?
  public init(pid: Int32, stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil, terminal: Int32? = nil) {
    self.pid = pid
    self.stdin = stdin
    self.stdout = stdout
    self.stderr = stderr
    self.terminal = terminal
  }
}

/// How an exec'd process ended, as the exit frame carries it.
public struct ExecExit: Codable, Sendable, Equatable {
  public var code: Int?
  public var signal: Int?
  public var error: APIError?
  public init(code: Int? = nil, signal: Int? = nil, error: APIError? = nil) {
    self.code = code
    self.signal = signal
    self.error = error
  }
}
