/// The `linux` section of `config.json`.
public struct Linux: Codable, Sendable, Equatable {
  public var namespaces: [LinuxNamespace]?
  public var uidMappings: [IDMapping]?
  public var gidMappings: [IDMapping]?
  public var timeOffsets: [String: TimeOffset]?
  public var devices: [LinuxDevice]?
  public var cgroupsPath: String?
  public var resources: LinuxResources?
  public var rootfsPropagation: String?
  public var seccomp: LinuxSeccomp?
  public var sysctl: [String: String]?
  public var maskedPaths: [String]?
  public var readonlyPaths: [String]?
  public var mountLabel: String?
  public var personality: LinuxPersonality?
  public var intelRdt: LinuxIntelRdt?
  public var memoryPolicy: LinuxMemoryPolicy?
  public var netDevices: [String: LinuxNetDevice]?

  public init(
    namespaces: [LinuxNamespace]? = nil, uidMappings: [IDMapping]? = nil, gidMappings: [IDMapping]? = nil,
    timeOffsets: [String: TimeOffset]? = nil, devices: [LinuxDevice]? = nil, cgroupsPath: String? = nil,
    resources: LinuxResources? = nil, rootfsPropagation: String? = nil, seccomp: LinuxSeccomp? = nil,
    sysctl: [String: String]? = nil, maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil,
    mountLabel: String? = nil, personality: LinuxPersonality? = nil, intelRdt: LinuxIntelRdt? = nil,
    memoryPolicy: LinuxMemoryPolicy? = nil, netDevices: [String: LinuxNetDevice]? = nil
  ) {
    self.namespaces = namespaces
    self.uidMappings = uidMappings
    self.gidMappings = gidMappings
    self.timeOffsets = timeOffsets
    self.devices = devices
    self.cgroupsPath = cgroupsPath
    self.resources = resources
    self.rootfsPropagation = rootfsPropagation
    self.seccomp = seccomp
    self.sysctl = sysctl
    self.maskedPaths = maskedPaths
    self.readonlyPaths = readonlyPaths
    self.mountLabel = mountLabel
    self.personality = personality
    self.intelRdt = intelRdt
    self.memoryPolicy = memoryPolicy
    self.netDevices = netDevices
  }
}

/// A namespace to create (no `path`) or join (`path`).
public struct LinuxNamespace: Codable, Sendable, Equatable {
  public var type: String
  public var path: String?

  public init(type: String, path: String? = nil) {
    self.type = type
    self.path = path
  }

  public init(_ kind: NamespaceKind, path: String? = nil) {
    self.type = kind.rawValue
    self.path = path
  }
}

/// A uid or gid range mapping.
public struct IDMapping: Codable, Sendable, Equatable {
  public var containerID: UInt32
  public var hostID: UInt32
  public var size: UInt32

  public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
    self.containerID = containerID
    self.hostID = hostID
    self.size = size
  }
}

/// A clock offset for the time namespace.
public struct TimeOffset: Codable, Sendable, Equatable {
  public var secs: Int64?
  public var nanosecs: UInt32?

  public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
    self.secs = secs
    self.nanosecs = nanosecs
  }
}

/// A device node to create in the container.
public struct LinuxDevice: Codable, Sendable, Equatable {
  public var type: String
  public var path: String
  public var major: Int64?
  public var minor: Int64?
  public var fileMode: UInt32?
  public var uid: UInt32?
  public var gid: UInt32?

  public init(
    type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
    uid: UInt32? = nil, gid: UInt32? = nil
  ) {
    self.type = type
    self.path = path
    self.major = major
    self.minor = minor
    self.fileMode = fileMode
    self.uid = uid
    self.gid = gid
  }
}

/// The seccomp filter.
public struct LinuxSeccomp: Codable, Sendable, Equatable {
  public var defaultAction: String
  public var defaultErrnoRet: UInt32?
  public var architectures: [String]?
  public var flags: [String]?
  public var listenerPath: String?
  public var listenerMetadata: String?
  public var syscalls: [LinuxSyscall]?

  public init(
    defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil, flags: [String]? = nil,
    listenerPath: String? = nil, listenerMetadata: String? = nil, syscalls: [LinuxSyscall]? = nil
  ) {
    self.defaultAction = defaultAction
    self.defaultErrnoRet = defaultErrnoRet
    self.architectures = architectures
    self.flags = flags
    self.listenerPath = listenerPath
    self.listenerMetadata = listenerMetadata
    self.syscalls = syscalls
  }
}

/// One seccomp rule.
public struct LinuxSyscall: Codable, Sendable, Equatable {
  public var names: [String]
  public var action: String
  public var errnoRet: UInt32?
  public var args: [LinuxSeccompArg]?

  public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [LinuxSeccompArg]? = nil) {
    self.names = names
    self.action = action
    self.errnoRet = errnoRet
    self.args = args
  }
}

/// One argument comparison of a seccomp rule.
public struct LinuxSeccompArg: Codable, Sendable, Equatable {
  public var index: UInt32
  public var value: UInt64
  public var valueTwo: UInt64?
  public var op: String

  public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
    self.index = index
    self.value = value
    self.valueTwo = valueTwo
    self.op = op
  }
}

/// personality(2) settings.
public struct LinuxPersonality: Codable, Sendable, Equatable {
  public var domain: String
  public var flags: [String]?

  public init(domain: String, flags: [String]? = nil) {
    self.domain = domain
    self.flags = flags
  }
}

/// Intel RDT (resctrl) settings.
public struct LinuxIntelRdt: Codable, Sendable, Equatable {
  public var closID: String?
  public var l3CacheSchema: String?
  public var memBwSchema: String?
  public var schemata: [String]?
  public var enableMonitoring: Bool?
  public var enableCMT: Bool?
  public var enableMBM: Bool?

  public init(
    closID: String? = nil, l3CacheSchema: String? = nil, memBwSchema: String? = nil, schemata: [String]? = nil,
    enableMonitoring: Bool? = nil, enableCMT: Bool? = nil, enableMBM: Bool? = nil
  ) {
    self.closID = closID
    self.l3CacheSchema = l3CacheSchema
    self.memBwSchema = memBwSchema
    self.schemata = schemata
    self.enableMonitoring = enableMonitoring
    self.enableCMT = enableCMT
    self.enableMBM = enableMBM
  }
}

/// NUMA memory policy (set_mempolicy(2)); `mode` is an `MPOL_*` name.
public struct LinuxMemoryPolicy: Codable, Sendable, Equatable {
  public var mode: String
  public var nodes: String?
  public var flags: [String]?

  public init(mode: String, nodes: String? = nil, flags: [String]? = nil) {
    self.mode = mode
    self.nodes = nodes
    self.flags = flags
  }
}

/// A host network device moved into the container, optionally renamed.
public struct LinuxNetDevice: Codable, Sendable, Equatable {
  public var name: String?

  public init(name: String? = nil) {
    self.name = name
  }
}
