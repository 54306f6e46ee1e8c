import CellaAPI
import CellaSys
import Glibc

/// The profiles of a store (`profiles/NAME.yaml`). `default` always exists (made empty when missing)
/// and cannot be deleted; every change is validated with the key table and written atomically under
/// the profiles' lock, so two concurrent `profile set`s both land.
public struct ProfileStore: Sendable {
  /// The profile every guest takes first.
  public static let defaultName = "default"

  public let layout: StoreLayout

  public init(layout: StoreLayout) { self.layout = layout }

  private var lockPath: String { layout.profiles + "/.lock" }

  /// Makes the profiles directory and an empty `default` profile when they are missing.
  public func ensureDefault() throws(HostError) {
    try makeDirectory(layout.profiles, mode: 0o755)
    guard !FileIO.exists(layout.profile(Self.defaultName)) else { return }
    try FileLock.withLock(lockPath) { () throws(HostError) in
      guard !FileIO.exists(layout.profile(Self.defaultName)) else { return }
      try ProfileRecord(name: Self.defaultName).write(to: layout.profile(Self.defaultName))
    }
  }

  /// Every profile, sorted by name.
  public func list() throws(HostError) -> [ProfileRecord] {
    try ensureDefault()
    let names: [String]
    do {
      names = try FileIO.listDirectory(layout.profiles)
    } catch {
      throw HostError(error.kind, error.message)
    }
    var out: [ProfileRecord] = []
    for file in names.sorted() where file.hasSuffix(".yaml") && !file.hasPrefix(".") {
      out.append(try ProfileRecord.read(layout.profiles + "/" + file))
    }
    return out
  }

  /// Whether profile `name` exists.
  public func exists(_ name: String) -> Bool {
    name == Self.defaultName || ((try? Names.check(name, as: "profile")) != nil && FileIO.exists(layout.profile(name)))
  }

  /// Profile `name`; `not-found` when there is none.
  public func get(_ name: String) throws(HostError) -> ProfileRecord {
    try Names.check(name, as: "profile")
    if name == Self.defaultName { try ensureDefault() }
    let path = layout.profile(name)
    guard FileIO.exists(path) else { throw HostError(.notFound, "profile \(ConfigValues.quote(name)) not found") }
    let record = try ProfileRecord.read(path)
    guard record.name == name else {
      throw HostError(
        .invalidArgument, "\(path): name: \(ConfigValues.quote(record.name)) differs from the file's name")
    }
    return record
  }

  /// Creates a profile; `already-exists` when the name is taken.
  public func create(_ record: ProfileRecord) throws(HostError) {
    try Names.check(record.name, as: "profile")
    try ConfigKeys.validate(record.config, kind: nil)
    try ensureDefault()
    try FileLock.withLock(lockPath) { () throws(HostError) in
      guard !FileIO.exists(layout.profile(record.name)) else {
        throw HostError(.alreadyExists, "profile \(ConfigValues.quote(record.name)) already exists")
      }
      try record.write(to: layout.profile(record.name))
    }
  }

  /// Sets keys of profile `name` (each validated first: nothing is written when one is bad).
  @discardableResult
  public func set(_ name: String, _ values: [String: String]) throws(HostError) -> ProfileRecord {
    try update(name) { (record) throws(HostError) in
      for key in values.keys.sorted() { try ConfigKeys.validate(key: key, value: values[key]!, kind: nil) }
      record.config.merge(values) { _, new in new }
    }
  }

  /// Removes keys of profile `name`; a key that is not set is no error, an unknown one is.
  @discardableResult
  public func unset(_ name: String, _ keys: [String]) throws(HostError) -> ProfileRecord {
    try update(name) { (record) throws(HostError) in
      for key in keys {
        _ = try ConfigKeys.row(of: key)
        record.config[key] = nil
      }
    }
  }

  /// Replaces all keys (and the description, when given) of profile `name`, as `profile edit` saves.
  @discardableResult
  public func replace(_ name: String, config: [String: String], description: String? = nil) throws(HostError)
    -> ProfileRecord
  {
    try update(name) { (record) throws(HostError) in
      try ConfigKeys.validate(config, kind: nil)
      record.config = config
      if let description { record.description = description.isEmpty ? nil : description }
    }
  }

  /// Deletes profile `name`; refused for `default` and while any guest in `usedBy` names it.
  public func delete(_ name: String, usedBy: [String]) throws(HostError) {
    try Names.check(name, as: "profile")
    if name == Self.defaultName {
      throw HostError(.invalidArgument, "profile \"default\" cannot be deleted: every guest takes it")
    }
    if !usedBy.isEmpty {
      throw HostError(
        .invalidState,
        "profile \(ConfigValues.quote(name)) is used by \(usedBy.count == 1 ? "guest" : "guests") \(usedBy.sorted().joined(separator: ", "))"
      )
    }
    try FileLock.withLock(lockPath) { () throws(HostError) in
      let path = layout.profile(name)
      if unlink(path) != 0 {
        if errno == ENOENT { throw HostError(.notFound, "profile \(ConfigValues.quote(name)) not found") }
        throw HostError("unlink", path: path, errno: errno)
      }
    }
  }

  private func update(_ name: String, _ change: (inout ProfileRecord) throws(HostError) -> Void) throws(HostError)
    -> ProfileRecord
  {
    try Names.check(name, as: "profile")
    try ensureDefault()
    return try FileLock.withLock(lockPath) { () throws(HostError) -> ProfileRecord in
      var record = try get(name)
      try change(&record)
      try record.write(to: layout.profile(name))
      return record
    }
  }

  private func makeDirectory(_ path: String, mode: mode_t) throws(HostError) {
    if mkdir(path, mode) != 0 && errno != EEXIST { throw HostError("mkdir", path: path, errno: errno) }
  }
}
