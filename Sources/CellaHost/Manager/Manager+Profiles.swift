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
    for guest in users {
      let record = try loadRecord(guest)
      let effective = try effectiveConfig(of: record, replacing: candidate)
      try checkOwner(record, try idRange(of: record, effective, allocate: false))
    }
    let record = try profiles.replace(name, config: replace.config)
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
