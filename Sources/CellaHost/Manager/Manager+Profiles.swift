import CellaAPI

extension Manager {
  public func listProfiles() throws -> [ProfileInfo] {
    let users = profileUsers()
    return try profiles.list().map { $0.info(usedBy: users[$0.name] ?? []) }
  }

  public func profile(_ name: String) throws -> ProfileInfo {
    try Names.check(name, as: "profile")
    return try profiles.get(name).info(usedBy: profileUsers()[name] ?? [])
  }

  public func createProfile(_ request: CreateProfileRequest) throws -> ProfileInfo {
    let record = ProfileRecord(name: request.name, description: request.description, config: request.config ?? [:])
    try profiles.create(record)
    log.info("profile \(request.name): created")
    return record.info(usedBy: [])
  }

  public func patchProfile(_ name: String, _ patch: ConfigPatch) throws -> ProfileInfo {
    try Names.check(name, as: "profile")
    var config = try profiles.get(name).config
    for key in patch.unset ?? [] { config.removeValue(forKey: key) }
    for (k, v) in patch.set ?? [:] { config[k] = v }
    return try replaceProfile(name, ConfigReplace(config: config))
  }

  public func replaceProfile(_ name: String, _ replace: ConfigReplace) throws -> ProfileInfo {
    try Names.check(name, as: "profile")
    let users = profileUsers()[name] ?? []
    // Every guest that takes this profile must still have a valid configuration with the new keys.
    try ConfigKeys.validate(replace.config, kind: nil)
    var candidate = try profiles.get(name)
    candidate.config = replace.config
    var moved: [NICChange] = []
    for guest in users {
      let record = try loadRecord(guest)
      let effective = try effectiveConfig(of: record, replacing: candidate)
      try checkOwner(record, try idRange(of: record, effective, allocate: false))
      let before = try? effectiveConfig(of: record)
      guard before?.nics != effective.nics else { continue }
      // The rules `config set` keeps for a guest's own keys: a running guest's NICs stay as it started.
      if KeeperLink.isAlive(paths: layout.guest(guest)) {
        throw HostError(
          .invalidState, "profile \"\(name)\": guest \"\(guest)\" is running: stop it to change its nic.N keys")
      }
      moved.append(
        NICChange(guest: guest, before: before?.nics ?? [], after: effective.nics, ports: !record.ports.isEmpty))
    }
    let record = try rebindProfileUsers(name, moved) { () throws(HostError) in
      try profiles.replace(name, config: replace.config)
    }
    for guest in users where KeeperLink.isAlive(paths: layout.guest(guest)) {
      guard let g = try? loadRecord(guest), let effective = try? effectiveConfig(of: g) else { continue }
      do { try applyLimits(guest, effective) } catch { log.warning("profile \(name): \(error.message)") }
    }
    log.info("profile \(name): changed")
    return record.info(usedBy: users)
  }

  public func deleteProfile(_ name: String) throws {
    try Names.check(name, as: "profile")
    try profiles.delete(name, usedBy: profileUsers()[name] ?? [])
    log.info("profile \(name): deleted")
  }

  /// A stopped guest whose NICs a profile change moves.
  struct NICChange {
    var guest: String
    var before: [GuestNIC]
    var after: [GuestNIC]
    /// Whether it publishes ports (which follow its first NIC's address).
    var ports: Bool
  }

  /// Binds the addresses of every guest in `moved` to its new NICs, then runs `commit` (writing the
  /// profile): all or nothing, the guests bound before a refusal are bound back. A MAC the profile gives
  /// two of them on one network is refused first (each guest's own check reads the others' files, which
  /// the profile has not changed yet).
  func rebindProfileUsers<T>(
    _ profile: String, _ moved: [NICChange], commit: () throws(HostError) -> T
  ) throws(HostError) -> T {
    for (i, a) in moved.enumerated() {
      for b in moved[(i + 1)...] {
        for nic in a.after {
          if let twin = b.after.first(where: {
            $0.network == nic.network && $0.mac(guest: b.guest) == nic.mac(guest: a.guest) && ($0.mac ?? nic.mac) != nil
          }) {
            throw HostError(
              .alreadyExists,
              "profile \"\(profile)\": guest \"\(a.guest)\": nic.\(nic.index).mac: \(nic.mac(guest: a.guest)) on network "
                + "\(nic.network) would be the MAC of \(Self.describe(twin.owner(guest: b.guest))) too")
          }
        }
      }
    }
    var bound: [NICChange] = []
    let result: T
    do {
      for change in moved {
        try bindAddresses(change.guest, change.after)
        bound.append(change)
      }
      result = try commit()
    } catch {
      for change in bound.reversed() { _ = try? bindAddresses(change.guest, change.before) }
      throw HostError("profile \"\(profile)\"", error)
    }
    // Their static leases name the MACs the profile gives, and their ports follow their first NIC.
    let networks = Set(moved.flatMap { ($0.before + $0.after).map(\.network) })
    for network in networks.sorted() { refreshNames(network: network) }
    if moved.contains(where: \.ports) { refreshFirewall("profile \(profile): new addresses") }
    return result
  }

  /// Profile name → the guests that name it (`default`: every guest).
  func profileUsers() -> [String: [String]] {
    var users: [String: [String]] = [:]
    for name in guestNames() {
      guard let record = try? loadRecord(name) else { continue }
      users[ProfileStore.defaultName, default: []].append(name)
      for p in record.profiles { users[p, default: []].append(name) }
    }
    return users
  }
}
