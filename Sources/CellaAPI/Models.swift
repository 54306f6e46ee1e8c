/// What a guest is: a security context on the host kernel, or a VM with its own.
public enum GuestKind: String, Codable, Sendable, CaseIterable {
  case container
  case vm
}

/// A guest's status as the API reports it.
public enum GuestStatus: String, Codable, Sendable, CaseIterable {
  case stopped
  case starting
  case running
  case stopping
  case error
}

/// Why a guest's last run ended.
public enum ExitReason: String, Codable, Sendable, CaseIterable {
  /// Its process exited by itself (see `code`).
  case exited
  /// A signal ended it that nobody at cella asked for (see `signal`).
  case killed
  /// The kernel's OOM killer ended it inside its memory limit.
  case oom
  /// Its seccomp filter killed it (SIGSYS).
  case seccomp
  /// `cella stop` (or `kill`, `restart`, `delete --force`) ended it.
  case stopped
  /// Its keeper died before it could record how the guest ended.
  case unknown
  /// A VM's OS powered the machine off.
  case guestShutdown = "guest-shutdown"
  /// A VM's OS rebooted, which ends its run (`boot.restart` starts it again).
  case guestReset = "guest-reset"
  /// A VM's kernel panicked (reported through the pvpanic device).
  case guestPanic = "guest-panic"
  /// QEMU itself failed (see `message`: the last line it wrote).
  case vmFailed = "vm-failed"
}

/// How a guest's last run ended.
public struct ExitInfo: Codable, Sendable, Equatable {
  /// The exit code when it exited.
  public var code: Int?
  /// The signal number when a signal ended it.
  public var signal: Int?
  /// Why it ended.
  public var reason: ExitReason
  /// When it ended (RFC 3339, UTC).
  public var time: String
  /// What the failed program said last (a VM's QEMU on its console), when it failed.
  public var message: String?
  public init(code: Int? = nil, signal: Int? = nil, reason: ExitReason, time: String, message: String? = nil) {
    self.message = message
    self.code = code
    self.signal = signal
    self.reason = reason
    self.time = time
  }
}

/// One line of `cella list`.
public struct GuestSummary: Codable, Sendable, Equatable {
  public var name: String
  public var kind: GuestKind
  public var status: GuestStatus
  /// The guest's init as the host sees it; absent when it is not running.
  public var pid: Int?
  public var image: String?
  /// The IPv4 addresses of its NICs, in NIC order; absent without NICs.
  public var addresses: [String]?
  public init(
    name: String, kind: GuestKind, status: GuestStatus, pid: Int?, image: String?, addresses: [String]? = nil
  ) {
    self.name = name
    self.kind = kind
    self.status = status
    self.pid = pid
    self.image = image
    self.addresses = addresses
  }
}

/// What a running guest uses now.
public struct Usage: Codable, Sendable, Equatable {
  /// Memory in bytes (the guest's cgroup).
  public var memory: UInt64?
  /// CPU time in seconds.
  public var cpuSeconds: Double?
  /// Processes and threads.
  public var pids: UInt64?
  public init(memory: UInt64? = nil, cpuSeconds: Double? = nil, pids: UInt64? = nil) {
    self.memory = memory
    self.cpuSeconds = cpuSeconds
    self.pids = pids
  }
}

/// `cella info`: a guest's summary, its configuration and what it uses.
public struct GuestInfo: Codable, Sendable, Equatable {
  public var name: String
  public var kind: GuestKind
  public var status: GuestStatus
  public var pid: Int?
  public var image: String?
  /// The profiles named by the guest, in order (`default` is applied first either way).
  public var profiles: [String]
  /// The guest's own keys.
  public var config: [String: String]
  /// The keys in effect: `default` profile, then the guest's profiles, then its own keys.
  public var effectiveConfig: [String: String]
  /// The command given at create, if any (else the image's).
  public var command: [String]?
  public var created: String
  /// When its current run started (RFC 3339), when running.
  public var started: String?
  public var usage: Usage?
  public var lastExit: ExitInfo?
  /// Restarts done by `boot.restart` since the guest was last started by hand.
  public var restartCount: Int
  /// Why the guest is in status `error`, when it is.
  public var error: String?
  /// Its NICs (`nic.N.*`); absent without any.
  public var nics: [GuestNICInfo]?
  /// A running VM's accelerator: `kvm`, or `tcg: ` and why KVM is not used.
  public var accelerator: String?
  public init(
    name: String, kind: GuestKind, status: GuestStatus, pid: Int?, image: String?, profiles: [String],
    config: [String: String], effectiveConfig: [String: String], command: [String]?, created: String,
    started: String?, usage: Usage?, lastExit: ExitInfo?, restartCount: Int, error: String?,
    nics: [GuestNICInfo]? = nil, accelerator: String? = nil
  ) {
    self.accelerator = accelerator
    self.name = name
    self.kind = kind
    self.status = status
    self.pid = pid
    self.image = image
    self.profiles = profiles
    self.config = config
    self.effectiveConfig = effectiveConfig
    self.command = command
    self.created = created
    self.started = started
    self.usage = usage
    self.lastExit = lastExit
    self.restartCount = restartCount
    self.error = error
    self.nics = nics
  }
}

/// `POST /1.0/guests`: create (and with `start`, launch) a guest.
public struct CreateGuestRequest: Codable, Sendable, Equatable {
  public var name: String
  /// The image its root comes from; a VM may boot `vm.kernel` or its `disk.*` instead.
  public var image: String?
  public var kind: GuestKind?
  public var profiles: [String]?
  public var config: [String: String]?
  /// Overrides the image's entrypoint and command.
  public var command: [String]?
  /// Start it once created (`cella launch`).
  public var start: Bool?
  public init(
    name: String, image: String?, kind: GuestKind? = nil, profiles: [String]? = nil, config: [String: String]? = nil,
    command: [String]? = nil, start: Bool? = nil
  ) {
    self.name = name
    self.image = image
    self.kind = kind
    self.profiles = profiles
    self.config = config
    self.command = command
    self.start = start
  }
}

/// `POST /1.0/guests/NAME/stop` and `/restart`.
public struct StopRequest: Codable, Sendable, Equatable {
  /// Seconds to wait after the stop signal before SIGKILL (default: `boot.stop.timeout`).
  public var timeout: Int?
  /// SIGKILL at once.
  public var force: Bool?
  public init(timeout: Int? = nil, force: Bool? = nil) {
    self.timeout = timeout
    self.force = force
  }
}

/// `POST /1.0/guests/NAME/kill`.
public struct KillRequest: Codable, Sendable, Equatable {
  /// A signal name (`TERM`, `SIGKILL`) or number; default SIGKILL.
  public var signal: String?
  public init(signal: String? = nil) { self.signal = signal }
}

/// `PATCH /1.0/guests/NAME/config` and `/1.0/profiles/NAME`: set some keys, unset others.
public struct ConfigPatch: Codable, Sendable, Equatable {
  public var set: [String: String]?
  public var unset: [String]?
  public init(set: [String: String]? = nil, unset: [String]? = nil) {
    self.set = set
    self.unset = unset
  }
}

/// `GET /1.0/guests/NAME/config`: a guest's own keys and the ones in effect.
public struct GuestConfig: Codable, Sendable, Equatable {
  public var config: [String: String]
  public var effectiveConfig: [String: String]
  public init(config: [String: String], effectiveConfig: [String: String]) {
    self.config = config
    self.effectiveConfig = effectiveConfig
  }
}

/// `PUT /1.0/guests/NAME/config` and `/1.0/profiles/NAME`: replace all keys (what `edit` saves).
public struct ConfigReplace: Codable, Sendable, Equatable {
  public var config: [String: String]
  public init(config: [String: String]) { self.config = config }
}

/// `POST /1.0/guests/NAME/exec`: a process to run in a running guest.
public struct ExecRequest: Codable, Sendable, Equatable {
  public var command: [String]
  /// `KEY=VALUE` entries added to the guest's environment.
  public var env: [String]?
  public var cwd: String?
  /// `uid[:gid]` or a user name of the guest.
  public var user: String?
  /// A pseudo-terminal (stdout and stderr become one stream).
  public var tty: Bool?
  /// A login shell (`cella enter`): the user's shell with `-l`; `command` is ignored.
  public var login: Bool?
  public var rows: Int?
  public var cols: Int?
  public init(
    command: [String], env: [String]? = nil, cwd: String? = nil, user: String? = nil, tty: Bool? = nil,
    login: Bool? = nil, rows: Int? = nil, cols: Int? = nil
  ) {
    self.command = command
    self.env = env
    self.cwd = cwd
    self.user = user
    self.tty = tty
    self.login = login
    self.rows = rows
    self.cols = cols
  }
}

/// The answer to an exec request: attach to `GET /1.0/exec/ID` with an upgrade to run it.
public struct ExecSession: Codable, Sendable, Equatable {
  public var id: String
  public init(id: String) { self.id = id }
}

/// Where an image came from.
public enum ImageSource: String, Codable, Sendable, CaseIterable {
  case busybox
  case debian
  case oci
  case dockerArchive = "docker-archive"
}

/// The default process an image gives its guests (from an OCI image config, or the builder's).
public struct ImageProcess: Codable, Sendable, Equatable {
  public var entrypoint: [String]?
  public var cmd: [String]?
  public var env: [String]?
  public var workingDir: String?
  public var user: String?
  /// The signal that asks the image's init to shut down (busybox init: SIGUSR2 powers off).
  public var stopSignal: String?
  public init(
    entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, workingDir: String? = nil,
    user: String? = nil, stopSignal: String? = nil
  ) {
    self.entrypoint = entrypoint
    self.cmd = cmd
    self.env = env
    self.workingDir = workingDir
    self.user = user
    self.stopSignal = stopSignal
  }
}

/// One image of `cella image list`.
public struct ImageInfo: Codable, Sendable, Equatable {
  public var name: String
  public var source: ImageSource
  /// The file or suite it was made from.
  public var origin: String?
  public var created: String
  /// Bytes on disk of its root filesystem.
  public var size: UInt64
  public var process: ImageProcess
  /// Guests made from it.
  public var usedBy: [String]
  public init(
    name: String, source: ImageSource, origin: String?, created: String, size: UInt64, process: ImageProcess,
    usedBy: [String]
  ) {
    self.name = name
    self.source = source
    self.origin = origin
    self.created = created
    self.size = size
    self.process = process
    self.usedBy = usedBy
  }
}

/// `POST /1.0/images/build`.
public struct BuildImageRequest: Codable, Sendable, Equatable {
  /// `busybox` or `debian`.
  public var source: ImageSource
  public var name: String
  /// Debian suite (default bookworm).
  public var suite: String?
  public init(source: ImageSource, name: String, suite: String? = nil) {
    self.source = source
    self.name = name
    self.suite = suite
  }
}

/// `POST /1.0/images/import`: an OCI image layout (directory or tar) or a docker-archive tarball on the
/// daemon's host.
public struct ImportImageRequest: Codable, Sendable, Equatable {
  public var file: String
  public var name: String
  public init(file: String, name: String) {
    self.file = file
    self.name = name
  }
}

/// A profile: named keys that guests take in order.
public struct ProfileInfo: Codable, Sendable, Equatable {
  public var name: String
  public var description: String?
  public var config: [String: String]
  /// Guests that name it (every guest for `default`).
  public var usedBy: [String]
  public init(name: String, description: String? = nil, config: [String: String], usedBy: [String] = []) {
    self.name = name
    self.description = description
    self.config = config
    self.usedBy = usedBy
  }
}

/// `POST /1.0/profiles`.
public struct CreateProfileRequest: Codable, Sendable, Equatable {
  public var name: String
  public var description: String?
  public var config: [String: String]?
  public init(name: String, description: String? = nil, config: [String: String]? = nil) {
    self.name = name
    self.description = description
    self.config = config
  }
}

/// `GET /1.0`: what the daemon is.
public struct DaemonInfo: Codable, Sendable, Equatable {
  public var version: String
  public var stateDir: String
  public var socket: String
  public var pid: Int
  public init(version: String, stateDir: String, socket: String, pid: Int) {
    self.version = version
    self.stateDir = stateDir
    self.socket = socket
    self.pid = pid
  }
}
