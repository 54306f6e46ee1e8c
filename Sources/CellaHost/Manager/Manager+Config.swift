import CellaAPI
import CellaOCI
import Glibc

extension Manager {
  public func guestConfig(_ name: String) throws -> GuestConfig {
    let record = try loadRecord(name)
    return GuestConfig(config: record.config, effectiveConfig: try effectiveMap(of: record))
  }

  public func patchGuestConfig(_ name: String, _ patch: ConfigPatch) throws -> GuestConfig {
    let record = try loadRecord(name)
    var config = record.config
    for key in patch.unset ?? [] {
      guard config.removeValue(forKey: key) != nil else {
        throw HostError(.notFound, "guest \"\(name)\": key \"\(key)\" is not set")
      }
    }
    for (k, v) in patch.set ?? [:] { config[k] = v }
    return try replaceGuestConfig(name, ConfigReplace(config: config))
  }

  public func replaceGuestConfig(_ name: String, _ replace: ConfigReplace) throws -> GuestConfig {
    var record = try loadRecord(name)
    let paths = layout.guest(name)
    let lock = try GuestLock(paths)
    for (key, value) in replace.config.sorted(by: { $0.key < $1.key }) {
      do { try ConfigKeys.validate(key: key, value: value, kind: record.kind) } catch {
        throw HostError("guest \"\(name)\"", error)
      }
    }
    let before = try? effectiveConfig(of: record)
    record.config = replace.config
    let effective = try effectiveConfig(of: record)
    let image = try record.image.map { image throws(HostError) in try images.record(image) }
    try checkStartable(record, image: image, effective: effective, paths: paths)
    let running = KeeperLink.isAlive(paths: paths)
    // A running guest's NICs and firewall entries are the ones it started with: its addresses may
    // not move under it.
    if running && before?.nics != effective.nics {
      throw HostError(.invalidState, "guest \"\(name)\" is running: stop it to change its nic.N keys")
    }
    let nicsChanged = before?.nics != effective.nics
    if effective.nics.isEmpty && !record.ports.isEmpty {
      throw HostError(
        .invalidState, "guest \"\(name)\" has published ports, which need a NIC: remove them first (cella port remove)")
    }
    // A running guest takes its new limits at once (the rest at its next start); a limit the kernel
    // refuses (memory below what the guest uses) refuses the whole change.
    if running { try applyLimits(name, effective) }
    if nicsChanged {
      try bindAddresses(name, effective.nics) { () throws(HostError) in try record.write(to: paths.record) }
    } else {
      try record.write(to: paths.record)
    }
    _ = consume lock
    // Its published ports go to its first NIC's address, which may have moved.
    if nicsChanged && !record.ports.isEmpty { refreshFirewall("guest \(name): new addresses") }
    log.info("guest \(name): configuration changed")
    return GuestConfig(config: record.config, effectiveConfig: try effectiveMap(of: record))
  }

  /// Writes a running guest's limits to its cgroup: the ones no key sets any more are lifted.
  func applyLimits(_ name: String, _ effective: EffectiveConfig) throws(HostError) {
    var r = LinuxResources()
    r.memory = LinuxMemory(limit: effective.memoryLimit.map { Int64(clamping: $0) } ?? -1)
    r.cpu = LinuxCPU(shares: effective.cpuShares, quota: effective.cpuQuota ?? -1, period: effective.cpuPeriod)
    r.pids = LinuxPids(limit: effective.pidsLimit ?? -1)
    do { try lifecycle.update(id: name, resources: r) } catch {
      throw HostError("guest \"\(name)\": applying the new limits", error)
    }
  }

  /// The guest's keys after layering: `default` profile, its profiles in order, its own keys.
  func effectiveMap(of record: GuestRecord, replacing profile: ProfileRecord? = nil) throws(HostError) -> [String:
    String]
  {
    func config(_ name: String) throws(HostError) -> [String: String] {
      if let profile, profile.name == name { return profile.config }
      return try profiles.get(name).config
    }
    var layers: [[String: String]] = []
    for p in record.profiles { layers.append(try config(p)) }
    return ConfigLayers.effective(default: try config(ProfileStore.defaultName), profiles: layers, own: record.config)
  }

  /// The typed configuration in effect, checked as a whole.
  func effectiveConfig(of record: GuestRecord, replacing profile: ProfileRecord? = nil) throws(HostError)
    -> EffectiveConfig
  {
    let map = try effectiveMap(of: record, replacing: profile)
    do { return try EffectiveConfig(map, kind: record.kind) } catch {
      throw HostError("guest \"\(record.name)\"", error)
    }
  }

  /// Checks that a guest with these keys can start, as create and config changes do: a container's
  /// spec is built; a VM's keys are checked against each other and the host.
  func checkStartable(_ record: GuestRecord, image: ImageRecord?, effective: EffectiveConfig, paths: GuestPaths)
    throws(HostError)
  {
    if record.kind == .vm {
      try checkVM(record, effective)
      return
    }
    _ = try spec(for: record, image: image, effective: effective, paths: paths)
  }

  /// The OCI config.json a guest starts with, its userns guest's host ids being `range`, its NICs `nics`.
  func spec(
    for record: GuestRecord, image: ImageRecord?, effective: EffectiveConfig, paths: GuestPaths, range: IDRange?,
    nics: [StartedNIC] = []
  ) throws(HostError) -> [UInt8] {
    guard let image, let imageName = record.image else {
      throw HostError(.invalidArgument, "guest \"\(record.name)\": a container needs an image")
    }
    try checkOwner(record, range)
    let network =
      nics.isEmpty
      ? nil
      : GuestSpec.Network(
        hookPath: options.nicHookPath, joins: Self.joins(nics), resolvConf: paths.resolvConf, hosts: paths.hosts)
    return try GuestSpec.json(
      GuestSpec.Input(
        name: record.name, process: image.process, command: record.command, config: effective, rootfs: paths.rootfs,
        lookupRoot: images.rootfs(imageName), cgroupsPath: options.cgroupParent + "/" + record.name,
        idRange: range, network: network))
  }

  /// The spec as a check at create or config time: a userns guest without a range gets a stand-in.
  func spec(for record: GuestRecord, image: ImageRecord?, effective: EffectiveConfig, paths: GuestPaths)
    throws(HostError) -> [UInt8]
  {
    try spec(
      for: record, image: image, effective: effective, paths: paths,
      range: try idRange(of: record, effective, allocate: false))
  }

  /// The host ids of a `security.userns` guest (nil without): its recorded range, else with
  /// `allocate` (a start) a newly recorded one, else a stand-in for checks.
  func idRange(of record: GuestRecord, _ effective: EffectiveConfig, allocate: Bool) throws(HostError) -> IDRange? {
    guard effective.userns else { return nil }
    let uids = UidAllocator(layout: layout)
    if let known = try uids.range(of: record.name) { return known }
    guard allocate else { return IDRange(first: uids.first, count: uids.size) }
    // A guest whose upper layer already belongs to a range (copied from another store) asks for it back.
    var st = stat()
    let owner = lstat(layout.guest(record.name).upper, &st) == 0 ? st.st_uid : 0
    return try uids.allocate(
      for: record.name, preferring: owner >= uids.first ? IDRange(first: owner, count: uids.size) : nil)
  }

  /// Refuses a `security.userns` other than the one the guest's files were made with.
  func checkOwner(_ record: GuestRecord, _ range: IDRange?) throws(HostError) {
    if let problem = Overlay.ownerProblem(layout.guest(record.name), owner: range?.first ?? 0) {
      throw HostError(.invalidState, "guest \"\(record.name)\": \(problem)")
    }
  }
}
