import CellaAPI
import CellaVM

/// A guest's keys in effect, typed for the spec and the supervisor; unset keys read as their defaults.
public struct EffectiveConfig: Sendable, Equatable {
  /// The merged map this was read from (what `info` shows as the effective config).
  public let values: [String: String]

  /// `limits.memory` in bytes.
  public let memoryLimit: UInt64?
  /// `limits.cpu` as a CFS quota in µs per `cpuPeriod`.
  public let cpuQuota: Int64?
  /// The CFS period `cpuQuota` is per, in µs.
  public var cpuPeriod: UInt64 { ConfigValues.cpuPeriod }
  /// `limits.cpu.weight`.
  public let cpuWeight: UInt64?
  /// `limits.cpu.weight` as the OCI `cpu.shares` that carries it.
  public var cpuShares: UInt64? { cpuWeight.map { ConfigValues.cpuShares(weight: $0) } }
  /// `limits.pids`.
  public let pidsLimit: Int64?
  /// `environment.*`, by variable name.
  public let environment: [String: String]
  /// `hostname`, when set.
  public let hostname: String?
  public let autostart: Bool
  /// `boot.autostart.priority`: higher starts first.
  public let priority: Int
  /// `boot.autostart.delay` in seconds.
  public let delay: Int
  public let restartPolicy: RestartPolicy
  /// `boot.stop.timeout` in seconds.
  public let stopTimeout: Int
  /// `boot.stop.signal`, when set (else the image's stop signal, else SIGTERM).
  public let stopSignal: Int32?
  public let securityProfile: SecurityProfile
  /// `security.userns`.
  public let userns: Bool
  /// `disk.*`, sorted by name.
  public let disks: [GuestDisk]
  /// `nic.*`, by index.
  public let nics: [GuestNIC]
  /// `console.buffer` in bytes.
  public let consoleBuffer: UInt64
  /// A VM's own keys (nil for containers).
  public let vm: VMConfig?

  /// Validates `values` (every key and the cross-key rules, for `kind`) and reads them.
  public init(_ values: [String: String], kind: GuestKind = .container) throws(HostError) {
    // Host files are checked where they are used (the spec, a VM's start), not each time a guest is read.
    try ConfigKeys.validate(values, kind: kind, host: false)
    self.values = values
    func value(_ key: String) -> String? { values[key] ?? ConfigKeys.defaultValue(of: key) }
    memoryLimit = value("limits.memory").flatMap(ByteSize.parse)
    cpuQuota = value("limits.cpu").flatMap(ConfigValues.cpuQuota)
    cpuWeight = value("limits.cpu.weight").flatMap { ConfigValues.integer($0, in: 1...10_000) }.map { UInt64($0) }
    pidsLimit = value("limits.pids").flatMap { ConfigValues.integer($0, in: 1...Int64.max) }
    var env: [String: String] = [:]
    for (key, v) in values where key.hasPrefix("environment.") { env[String(key.dropFirst(12))] = v }
    environment = env
    hostname = value("hostname")
    autostart = value("boot.autostart").flatMap(ConfigValues.bool) ?? false
    priority =
      value("boot.autostart.priority").flatMap { ConfigValues.integer($0, in: Int64(Int32.min)...Int64(Int32.max)) }.map
    { Int($0) } ?? 0
    delay =
      value("boot.autostart.delay").flatMap { ConfigValues.integer($0, in: 0...Int64(Int32.max)) }.map { Int($0) } ?? 0
    restartPolicy = value("boot.restart").flatMap { RestartPolicy($0) } ?? .no
    stopTimeout =
      value("boot.stop.timeout").flatMap { ConfigValues.integer($0, in: 0...Int64(Int32.max)) }.map { Int($0) } ?? 0
    stopSignal = value("boot.stop.signal").flatMap(ConfigValues.signal)
    securityProfile = SecurityProfile(value("security.profile") ?? "default")
    userns = value("security.userns").flatMap(ConfigValues.bool) ?? false
    disks = try ConfigKeys.disks(of: values, kind: kind)
    nics = try ConfigKeys.nics(of: values)
    consoleBuffer = value("console.buffer").flatMap(ByteSize.parse) ?? ConfigKeys.consoleBuffer.lowerBound
    vm = kind == .vm ? VMConfig(values, value) : nil
  }

  /// The merge of the layers (`ConfigLayers.effective`), validated and read.
  public init(
    default base: [String: String], profiles: [[String: String]], own: [String: String], kind: GuestKind = .container
  ) throws(HostError) {
    try self.init(ConfigLayers.effective(default: base, profiles: profiles, own: own), kind: kind)
  }
}

/// The keys only VM guests have, typed.
public struct VMConfig: Sendable, Equatable {
  /// `vm.machine` when set (the default depends on how the VM boots).
  public let machine: VMMachine?
  public let accel: VMAccelSetting
  public let cpu: String?
  public let kernel: String?
  public let initrd: String?
  public let cmdline: String?
  public let clock: VMClock
  /// `serial.N` by N; serial 0 is the console unless set otherwise.
  public let serials: [Int: ConfigValues.Serial]

  /// A VM's RAM when `limits.memory` is not set.
  public static let defaultMemory: UInt64 = 256 << 20

  init(_ values: [String: String], _ value: (String) -> String?) {
    machine = value("vm.machine").flatMap(VMMachine.init(rawValue:))
    accel = value("vm.accel").flatMap(VMAccelSetting.init(rawValue:)) ?? .auto
    cpu = value("vm.cpu")
    kernel = value("vm.kernel")
    initrd = value("vm.initrd")
    cmdline = value("vm.cmdline")
    clock = value("clock").flatMap(VMClock.init(rawValue:)) ?? .utc
    var serials: [Int: ConfigValues.Serial] = [0: .console]
    for (key, v) in values where key.hasPrefix("serial.") {
      if let n = Int(key.dropFirst(7)), let serial = ConfigValues.serial(v) { serials[n] = serial }
    }
    self.serials = serials
  }
}
