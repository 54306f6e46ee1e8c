import CellaAPI
import CellaNet
import CellaVM

/// The config keys of guests and profiles: the one table of them, and their validation.
public enum ConfigKeys {
  /// Every key, in the order `cella config keys` shows them.
  public static let all: [ConfigKey] = [
    ConfigKey(
      "limits.cpu", "cores", doc: "CPU time as cores, fractional (0.5 = half of one core per 100 ms); 0.01 to 10000",
      check: { ConfigValues.cpuQuota($0) == nil ? "\(q($0)) is not a number of cores from 0.01 to 10000" : nil }),
    ConfigKey(
      "limits.cpu.weight", "integer", doc: "CPU weight against other guests when the host is busy, 1 to 10000",
      check: { integer($0, 1...10_000) }),
    ConfigKey(
      "limits.memory", "size", doc: "Memory limit (512MiB, 1GiB, 1G = 1GiB, 1GB = 10^9, or bytes); OOM kill above it",
      check: { size($0, 1...UInt64(Int64.max)) }),
    ConfigKey(
      "limits.pids", "integer", doc: "Most processes and threads at once, 1 or more",
      check: { integer($0, 1...Int64(Int32.max)) }),
    ConfigKey(
      "environment.<NAME>", "string", doc: "Environment variable NAME of the guest's init (a VM's: from an image)",
      name: { ConfigValues.isEnvironmentName($0) ? nil : "\(q($0)) is not an environment variable name" },
      check: { $0.utf8.contains(0) ? "the value contains a NUL byte" : nil }),
    ConfigKey(
      "hostname", "dns-name", doc: "The guest's hostname (default: its name)",
      check: {
        ConfigValues.isHostname($0)
          ? nil : "\(q($0)) is not a DNS name of at most \(ConfigValues.maxHostname) characters"
      }),
    ConfigKey(
      "boot.autostart", "bool", default: "false", doc: "Start the guest when the daemon starts",
      check: { bool($0) }),
    ConfigKey(
      "boot.autostart.priority", "integer", default: "0", doc: "Autostart order: higher starts first",
      check: { integer($0, Int64(Int32.min)...Int64(Int32.max)) }),
    ConfigKey(
      "boot.autostart.delay", "seconds", default: "0",
      doc: "Seconds to wait after autostarting this guest (at most an hour)",
      check: { seconds($0, max: maxAutostartDelay) }),
    ConfigKey(
      "boot.restart", "restart-policy", default: "no",
      doc: "When the daemon restarts a guest that ended by itself: no, on-failure, on-failure:N or always",
      check: { RestartPolicy($0) == nil ? "\(q($0)) is not no, on-failure, on-failure:N or always" : nil }),
    ConfigKey(
      "boot.stop.timeout", "seconds", default: "10", doc: "Seconds `cella stop` waits for the guest before SIGKILL",
      check: { seconds($0) }),
    ConfigKey(
      "boot.stop.signal", "signal", kinds: [.container],
      doc: "The signal `cella stop` sends the guest's init (default: the image's, else SIGTERM)",
      check: { ConfigValues.signal($0) == nil ? "\(q($0)) is not a signal name or number" : nil }),
    ConfigKey(
      "security.profile", "seccomp-profile", kinds: [.container], default: "default",
      doc: "Seccomp filter: default, strict (Profiles/seccomp/strict.json) or the path of an OCI seccomp JSON file",
      check: { text in
        if text == "default" || text == "strict" { return nil }
        do throws(HostError) {
          _ = try ConfigValues.seccompProfile(at: text)
          return nil
        } catch { return error.message }
      },
      shape: { text in text == "default" || text == "strict" ? nil : pathShape(text) }),
    ConfigKey(
      "security.userns", "bool", kinds: [.container], default: "false",
      doc: "Run the guest in a user namespace: its root is a host uid range of its own",
      check: { bool($0) }),
    ConfigKey(
      "disk.<NAME>.source", "host-path",
      doc: "A container's host directory bound in as disk NAME; a VM's disk image file (raw or qcow2)",
      name: diskName, check: { ConfigValues.hostDirectoryProblem($0) }, vmCheck: { ConfigValues.hostFileProblem($0) },
      shape: pathShape),
    ConfigKey(
      "disk.<NAME>.path", "guest-path", kinds: [.container],
      doc: "Where disk NAME appears in the guest (an absolute path)", name: diskName,
      check: { ConfigValues.guestPathProblem($0) }),
    ConfigKey(
      "disk.<NAME>.readonly", "bool", default: "false", doc: "Disk NAME is read-only", name: diskName,
      check: { bool($0) }),
    ConfigKey(
      "disk.<NAME>.shift", "bool", kinds: [.container], default: "false",
      doc: "With security.userns: idmap disk NAME, so guest root owns (and writes as) what host root owns there",
      name: diskName, check: { bool($0) }),
    ConfigKey(
      "disk.<NAME>.volatile", "bool", kinds: [.vm], default: "false",
      doc: "A VM's writes to disk NAME are discarded when it stops (QEMU's snapshot mode)", name: diskName,
      check: { bool($0) }),
    ConfigKey(
      "nic.<N>.network", "network", doc: "The cella network NIC N (0 to 15) joins; the guest sees it as ethN",
      name: nicIndex, check: { name in nameProblem(name, as: "network") }),
    ConfigKey(
      "nic.<N>.ipv4", "ipv4-address", default: "auto",
      doc: "NIC N's address: auto (the lowest free one of its network) or a free address of the network",
      name: nicIndex,
      check: { text in
        text == "auto" || IPv4Address(text) != nil
          ? nil : "\(q(text)) is not auto or an IPv4 address (four numbers 0-255, e.g. 10.210.0.5)"
      }),
    ConfigKey(
      "nic.<N>.mac", "mac-address", doc: "NIC N's MAC address, unicast (default: derived from the guest's name and N)",
      name: nicIndex,
      check: { text in
        do throws(NetError) {
          _ = try MACAddress.parseGuestMAC(text, what: "")
          return nil
        } catch { return String(error.message.drop(while: { $0 == " " })) }
      }),
    ConfigKey(
      "vm.machine", "machine", kinds: [.vm],
      doc: "QEMU machine: microvm (default for kernel boots), q35 (default for disk boots) or pc (legacy OSes)",
      check: { word($0, VMMachine.self) }),
    ConfigKey(
      "vm.accel", "accelerator", kinds: [.vm], default: "auto",
      doc: "auto (KVM where a probe shows it works, else TCG), kvm (refused where unusable) or tcg",
      check: { word($0, VMAccelSetting.self) }),
    ConfigKey(
      "vm.cpu", "cpu-model", kinds: [.vm], doc: "QEMU CPU model with features (e.g. max, Haswell,-hle); default QEMU's",
      check: { VMDescription.cpuModelProblem($0) }),
    ConfigKey(
      "vm.kernel", "host-file", kinds: [.vm], doc: "Kernel booted directly (bzImage or vmlinux with a PVH entry)",
      check: { ConfigValues.hostFileProblem($0) }, shape: pathShape),
    ConfigKey(
      "vm.initrd", "host-file", kinds: [.vm], doc: "Initramfs for vm.kernel",
      check: { ConfigValues.hostFileProblem($0) }, shape: pathShape),
    ConfigKey(
      "vm.cmdline", "string", kinds: [.vm], doc: "Kernel command line for vm.kernel (console=ttyS0 is added)",
      check: { $0.utf8.count > VMLimits.maxCmdlineBytes ? "longer than \(VMLimits.maxCmdlineBytes) bytes" : nil }),
    ConfigKey(
      "clock", "clock", kinds: [.vm], default: "utc", doc: "What a VM's real-time clock counts: utc or localtime",
      check: { word($0, VMClock.self) }),
    ConfigKey(
      "serial.<N>", "serial", kinds: [.vm],
      doc: "VM serial port N (0 to 3): console (the guest console; serial.0's default), host:/dev/PATH or none",
      name: serialIndex, check: { ConfigValues.serialProblem($0) }),
    ConfigKey(
      "console.buffer", "size", default: "1MiB", doc: "Console history kept per guest (console.log), 4KiB to 64MiB",
      check: { size($0, consoleBuffer) }),
  ]

  /// Why `text` is not one of `T`'s words.
  private static func word<T: RawRepresentable & CaseIterable>(_ text: String, _: T.Type) -> String?
  where T.RawValue == String {
    T(rawValue: text) == nil ? "\(q(text)) is not \(T.allCases.map(\.rawValue).joined(separator: ", "))" : nil
  }

  /// The VM serial ports: `serial.0` (ttyS0) to `serial.3`.
  public static let serialIndices = 0...3

  private static let serialIndex: @Sendable (String) -> String? = { text in
    guard let n = Int(text), serialIndices.contains(n), String(n) == text else {
      return "\(q(text)) is not a serial port from \(serialIndices.lowerBound) to \(serialIndices.upperBound)"
    }
    return nil
  }

  /// The sizes `console.buffer` may take.
  public static let consoleBuffer: ClosedRange<UInt64> = 4 << 10...64 << 20

  /// The row of `key` (a plain key or an instance of a pattern), refusing unknown keys with the
  /// nearest known one, and pattern instances whose NAME is not valid.
  public static func row(of key: String) throws(HostError) -> ConfigKey {
    if let row = all.first(where: { !$0.isPattern && $0.name == key }) { return row }
    for row in all {
      guard let name = row.patternName(in: key) else { continue }
      if let problem = row.nameProblem?(name) { throw HostError(.invalidArgument, "\(key): \(problem)") }
      return row
    }
    if let near = suggestion(for: key) {
      throw HostError(.invalidArgument, "unknown key \(q(key)): did you mean \(q(near))?")
    }
    throw HostError(.invalidArgument, "unknown key \(q(key)): `cella config keys` lists the keys")
  }

  /// Checks one key and its value, as `config set` and `profile set` do; a `kind` also refuses keys
  /// that do not apply to that kind of guest (profiles pass nil: they may serve either kind).
  /// Without `host` a value naming a host file is checked by its spelling only (reading a stored guest
  /// or profile).
  public static func validate(key: String, value: String, kind: GuestKind? = .container, host: Bool = true)
    throws(HostError)
  {
    let row = try row(of: key)
    if let kind, !row.kinds.contains(kind) {
      let kinds = row.kinds.map(\.rawValue).sorted().joined(separator: ", ")
      throw HostError(.invalidArgument, "\(key): applies to \(kinds) guests, not \(kind.rawValue)")
    }
    if let problem = row.problem(value, kind: kind, host: host) {
      throw HostError(.invalidArgument, "\(key): \(problem)")
    }
  }

  /// Checks every key of a map (in sorted order, so the first problem is always the same one), then
  /// the rules across keys: a disk needs both source and path, no two disks share a path; a NIC needs a
  /// network, no two NICs share a static address or MAC.
  public static func validate(_ config: [String: String], kind: GuestKind? = .container, host: Bool = true)
    throws(HostError)
  {
    for key in config.keys.sorted() { try validate(key: key, value: config[key]!, kind: kind, host: host) }
    _ = try disks(of: config, kind: kind ?? .container)
    _ = try nics(of: config)
  }

  /// The NIC indices a guest may use: `nic.0.*` to `nic.15.*`.
  public static let nicIndices = 0...15

  /// The NICs of an already key-checked map, by index; the cross-key rules throw here.
  public static func nics(of config: [String: String]) throws(HostError) -> [GuestNIC] {
    var indices = Set<Int>()
    for key in config.keys where key.hasPrefix("nic.") {
      for row in all where row.name.hasPrefix("nic.") {
        if let n = row.patternName(in: key).flatMap({ Int($0) }) { indices.insert(n) }
      }
    }
    var nics: [GuestNIC] = []
    var byAddress: [IPv4Address: Int] = [:]
    var byMAC: [MACAddress: Int] = [:]
    for index in indices.sorted() {
      guard let network = config["nic.\(index).network"] else {
        throw HostError(.invalidArgument, "nic.\(index).network: missing; NIC \(index) needs a network")
      }
      let ipv4 = config["nic.\(index).ipv4"].flatMap { $0 == "auto" ? nil : IPv4Address($0) }
      if let ipv4 {
        if let other = byAddress[ipv4] {
          throw HostError(.invalidArgument, "nic.\(index).ipv4: \(ipv4) is the address of nic \(other) too")
        }
        byAddress[ipv4] = index
      }
      let mac = config["nic.\(index).mac"].flatMap { MACAddress($0) }
      if let mac {
        if let other = byMAC[mac] {
          throw HostError(.invalidArgument, "nic.\(index).mac: \(mac) is the MAC address of nic \(other) too")
        }
        byMAC[mac] = index
      }
      nics.append(GuestNIC(index: index, network: network, ipv4: ipv4, mac: mac))
    }
    return nics
  }

  /// The disks of an already key-checked map, sorted by name; the cross-key rules throw here.
  public static func disks(of config: [String: String], kind: GuestKind = .container) throws(HostError) -> [GuestDisk] {
    var names = Set<String>()
    for key in config.keys where key.hasPrefix("disk.") {
      for row in all where row.name.hasPrefix("disk.") {
        if let name = row.patternName(in: key) { names.insert(name) }
      }
    }
    var disks: [GuestDisk] = []
    var byPath: [String: String] = [:]
    for name in names.sorted() {
      if kind == .vm {
        guard let source = config["disk.\(name).source"] else {
          throw HostError(.invalidArgument, "disk.\(name).source: missing; disk \(q(name)) needs an image file")
        }
        let readonly = config["disk.\(name).readonly"].flatMap(ConfigValues.bool) ?? false
        let volatile = config["disk.\(name).volatile"].flatMap(ConfigValues.bool) ?? false
        disks.append(GuestDisk(name: name, source: source, path: "", readonly: readonly, volatile: volatile))
        continue
      }
      guard let source = config["disk.\(name).source"] else {
        throw HostError(.invalidArgument, "disk.\(name).source: missing; disk \(q(name)) needs a source and a path")
      }
      guard let path = config["disk.\(name).path"] else {
        throw HostError(.invalidArgument, "disk.\(name).path: missing; disk \(q(name)) needs a source and a path")
      }
      let clean = ConfigValues.cleanAbsolutePath(path) ?? path
      if let other = byPath[clean] {
        throw HostError(.invalidArgument, "disk.\(name).path: \(q(path)) is the path of disk \(q(other)) too")
      }
      byPath[clean] = name
      let readonly = config["disk.\(name).readonly"].flatMap(ConfigValues.bool) ?? false
      let shift = config["disk.\(name).shift"].flatMap(ConfigValues.bool) ?? false
      disks.append(GuestDisk(name: name, source: source, path: clean, readonly: readonly, shift: shift))
    }
    return disks
  }

  /// The known key (a pattern spelled with the key's own NAME) nearest to `key`, when one is near.
  public static func suggestion(for key: String) -> String? {
    var best: (String, Int)?
    let lower = key.lowercased()
    for row in all {
      let candidate = row.candidate(for: key)
      let d = EditDistance.between(lower, candidate.lowercased())
      if best == nil || d < best!.1 { best = (candidate, d) }
    }
    guard let (candidate, d) = best, d <= max(2, min(4, key.count / 3)) else { return nil }
    return candidate
  }

  /// The default of a plain key, nil when it has none.
  public static func defaultValue(of key: String) -> String? {
    all.first { $0.name == key }?.defaultValue
  }

  private static func q(_ s: String) -> String { ConfigValues.quote(s) }

  private static func integer(_ text: String, _ range: ClosedRange<Int64>) -> String? {
    guard ConfigValues.integer(text, in: range) == nil else { return nil }
    if range.upperBound >= Int64(Int32.max) {
      return range.lowerBound <= Int64(Int32.min)
        ? "\(q(text)) is not an integer" : "\(q(text)) is not an integer of \(range.lowerBound) or more"
    }
    return "\(q(text)) is not an integer from \(range.lowerBound) to \(range.upperBound)"
  }

  private static func seconds(_ text: String, max: Int64 = Int64(Int32.max)) -> String? {
    guard ConfigValues.integer(text, in: 0...Int64(Int32.max)) != nil else {
      return "\(q(text)) is not a number of seconds (0 or more)"
    }
    return ConfigValues.integer(text, in: 0...max) == nil ? "\(q(text)) is more than \(max) seconds" : nil
  }

  /// The longest `boot.autostart.delay`: autostart waits it out before the next guest.
  public static let maxAutostartDelay: Int64 = 3600

  private static func bool(_ text: String) -> String? {
    ConfigValues.bool(text) == nil ? "\(q(text)) is not true or false" : nil
  }

  private static func size(_ text: String, _ range: ClosedRange<UInt64>) -> String? {
    guard let n = ByteSize.parse(text) else {
      return "\(q(text)) is not a size (like 512MiB, 1GiB, 1G or a number of bytes)"
    }
    guard range.contains(n) else {
      if range.upperBound >= UInt64(Int64.max) { return "\(q(text)) is not more than 0 bytes" }
      return "\(q(text)) is outside \(ByteSize.format(range.lowerBound)) to \(ByteSize.format(range.upperBound))"
    }
    return nil
  }

  /// A host path's spelling: clean and absolute.
  private static let pathShape: @Sendable (String) -> String? = { text in
    ConfigValues.cleanAbsolutePath(text) == nil ? "\(q(text)) is not a clean absolute path" : nil
  }

  private static let diskName: @Sendable (String) -> String? = { name in nameProblem(name, as: "disk") }

  private static func nameProblem(_ name: String, as what: String) -> String? {
    do throws(HostError) {
      try Names.check(name, as: what)
      return nil
    } catch { return error.message }
  }

  /// N of `nic.N.*`: a decimal index in `nicIndices`, written without leading zeros (`nic.01` and
  /// `nic.1` would otherwise be two keys for one NIC).
  private static let nicIndex: @Sendable (String) -> String? = { text in
    guard let n = Int(text), nicIndices.contains(n), String(n) == text else {
      return "\(q(text)) is not a NIC index from \(nicIndices.lowerBound) to \(nicIndices.upperBound)"
    }
    return nil
  }
}
