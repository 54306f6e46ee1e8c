/// The whole `config.json` of an OCI bundle (runtime-spec 1.3.0).
///
/// Enum-like fields stay `String` so that validation can name a bad value
/// together with its field path. Unknown JSON properties are ignored and nil
/// fields are left out when encoding.
public struct Spec: Codable, Sendable, Equatable {
  public var ociVersion: String
  public var process: Process?
  public var root: Root?
  public var hostname: String?
  public var domainname: String?
  public var mounts: [Mount]?
  public var hooks: Hooks?
  public var annotations: [String: String]?
  public var linux: Linux?

  public init(
    ociVersion: String = OCIVersion.current, process: Process? = nil, root: Root? = nil, hostname: String? = nil,
    domainname: String? = nil, mounts: [Mount]? = nil, hooks: Hooks? = nil, annotations: [String: String]? = nil,
    linux: Linux? = nil
  ) {
    self.ociVersion = ociVersion
    self.process = process
    self.root = root
    self.hostname = hostname
    self.domainname = domainname
    self.mounts = mounts
    self.hooks = hooks
    self.annotations = annotations
    self.linux = linux
  }
}

/// The container process.
public struct Process: Codable, Sendable, Equatable {
  public var terminal: Bool?
  public var consoleSize: Box?
  public var user: User
  public var args: [String]?
  public var commandLine: String?
  public var env: [String]?
  public var cwd: String
  public var capabilities: LinuxCapabilities?
  public var rlimits: [POSIXRlimit]?
  public var apparmorProfile: String?
  public var oomScoreAdj: Int?
  public var selinuxLabel: String?
  public var noNewPrivileges: Bool?
  public var scheduler: Scheduler?
  public var ioPriority: LinuxIOPriority?
  public var execCPUAffinity: ExecCPUAffinity?

  public init(
    terminal: Bool? = nil, consoleSize: Box? = nil, user: User = User(), args: [String]? = nil,
    commandLine: String? = nil, env: [String]? = nil, cwd: String = "/", capabilities: LinuxCapabilities? = nil,
    rlimits: [POSIXRlimit]? = nil, apparmorProfile: String? = nil, oomScoreAdj: Int? = nil,
    selinuxLabel: String? = nil, noNewPrivileges: Bool? = nil, scheduler: Scheduler? = nil,
    ioPriority: LinuxIOPriority? = nil, execCPUAffinity: ExecCPUAffinity? = nil
  ) {
    self.terminal = terminal
    self.consoleSize = consoleSize
    self.user = user
    self.args = args
    self.commandLine = commandLine
    self.env = env
    self.cwd = cwd
    self.capabilities = capabilities
    self.rlimits = rlimits
    self.apparmorProfile = apparmorProfile
    self.oomScoreAdj = oomScoreAdj
    self.selinuxLabel = selinuxLabel
    self.noNewPrivileges = noNewPrivileges
    self.scheduler = scheduler
    self.ioPriority = ioPriority
    self.execCPUAffinity = execCPUAffinity
  }
}

/// Console size in characters.
public struct Box: Codable, Sendable, Equatable {
  public var height: UInt
  public var width: UInt

  public init(height: UInt, width: UInt) {
    self.height = height
    self.width = width
  }
}

/// The user the process runs as.
public struct User: Codable, Sendable, Equatable {
  public var uid: UInt32
  public var gid: UInt32
  public var umask: UInt32?
  public var additionalGids: [UInt32]?
  public var username: String?

  public init(
    uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil, username: String? = nil
  ) {
    self.uid = uid
    self.gid = gid
    self.umask = umask
    self.additionalGids = additionalGids
    self.username = username
  }
}

/// Capability sets, as `CAP_*` names.
public struct LinuxCapabilities: Codable, Sendable, Equatable {
  public var bounding: [String]?
  public var effective: [String]?
  public var inheritable: [String]?
  public var permitted: [String]?
  public var ambient: [String]?

  public init(
    bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
    permitted: [String]? = nil, ambient: [String]? = nil
  ) {
    self.bounding = bounding
    self.effective = effective
    self.inheritable = inheritable
    self.permitted = permitted
    self.ambient = ambient
  }
}

/// One rlimit, `type` being an `RLIMIT_*` name.
public struct POSIXRlimit: Codable, Sendable, Equatable {
  public var type: String
  public var hard: UInt64
  public var soft: UInt64

  public init(type: String, hard: UInt64, soft: UInt64) {
    self.type = type
    self.hard = hard
    self.soft = soft
  }
}

/// Scheduling attributes (sched_setattr(2)).
public struct Scheduler: Codable, Sendable, Equatable {
  public var policy: String
  public var nice: Int32?
  public var priority: Int32?
  public var flags: [String]?
  public var runtime: UInt64?
  public var deadline: UInt64?
  public var period: UInt64?

  public init(
    policy: String, nice: Int32? = nil, priority: Int32? = nil, flags: [String]? = nil, runtime: UInt64? = nil,
    deadline: UInt64? = nil, period: UInt64? = nil
  ) {
    self.policy = policy
    self.nice = nice
    self.priority = priority
    self.flags = flags
    self.runtime = runtime
    self.deadline = deadline
    self.period = period
  }
}

/// I/O priority (ioprio_set(2)); `ioClass` is the JSON `class` field.
public struct LinuxIOPriority: Codable, Sendable, Equatable {
  public var ioClass: String
  public var priority: Int

  enum CodingKeys: String, CodingKey {
    case ioClass = "class"
    case priority
  }

  public init(ioClass: String, priority: Int) {
    self.ioClass = ioClass
    self.priority = priority
  }
}

/// CPU affinity applied around exec (`process.execCPUAffinity`).
public struct ExecCPUAffinity: Codable, Sendable, Equatable {
  public var initial: String?
  public var `final`: String?

  public init(initial: String? = nil, final: String? = nil) {
    self.initial = initial
    self.final = final
  }
}

/// The container's root filesystem.
public struct Root: Codable, Sendable, Equatable {
  public var path: String
  public var readonly: Bool?

  public init(path: String, readonly: Bool? = nil) {
    self.path = path
    self.readonly = readonly
  }
}

/// One entry of `mounts`.
public struct Mount: Codable, Sendable, Equatable {
  public var destination: String
  public var type: String?
  public var source: String?
  public var options: [String]?
  public var uidMappings: [IDMapping]?
  public var gidMappings: [IDMapping]?

  public init(
    destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil,
    uidMappings: [IDMapping]? = nil, gidMappings: [IDMapping]? = nil
  ) {
    self.destination = destination
    self.type = type
    self.source = source
    self.options = options
    self.uidMappings = uidMappings
    self.gidMappings = gidMappings
  }

  /// True for `type: "bind"` or a `bind`/`rbind` option.
  public var isBind: Bool {
    if type == "bind" { return true }
    return options?.contains { $0 == "bind" || $0 == "rbind" } ?? false
  }
}

/// Lifecycle hooks.
public struct Hooks: Codable, Sendable, Equatable {
  public var prestart: [Hook]?
  public var createRuntime: [Hook]?
  public var createContainer: [Hook]?
  public var startContainer: [Hook]?
  public var poststart: [Hook]?
  public var poststop: [Hook]?

  public init(
    prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
    startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil
  ) {
    self.prestart = prestart
    self.createRuntime = createRuntime
    self.createContainer = createContainer
    self.startContainer = startContainer
    self.poststart = poststart
    self.poststop = poststop
  }

  /// Every hook list with its JSON name, in lifecycle order.
  public var all: [(name: String, hooks: [Hook])] {
    var out: [(name: String, hooks: [Hook])] = []
    if let prestart { out.append(("prestart", prestart)) }
    if let createRuntime { out.append(("createRuntime", createRuntime)) }
    if let createContainer { out.append(("createContainer", createContainer)) }
    if let startContainer { out.append(("startContainer", startContainer)) }
    if let poststart { out.append(("poststart", poststart)) }
    if let poststop { out.append(("poststop", poststop)) }
    return out
  }
}

/// One hook command; `timeout` is in seconds.
public struct Hook: Codable, Sendable, Equatable {
  public var path: String
  public var args: [String]?
  public var env: [String]?
  public var timeout: Int?

  public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
    self.path = path
    self.args = args
    self.env = env
    self.timeout = timeout
  }
}
