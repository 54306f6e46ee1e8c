import CellaAPI

extension Manager {
  public func listImages() throws -> [ImageInfo] {
    let users = imageUsers()
    return try images.list().map { $0.info(usedBy: users[$0.name] ?? []) }
  }

  public func imageInfo(_ name: String) throws -> ImageInfo {
    try Names.check(name, as: "image")
    return try images.record(name).info(usedBy: imageUsers()[name] ?? [])
  }

  public func buildImage(_ request: BuildImageRequest) throws -> ImageInfo {
    let record: ImageRecord
    switch request.source {
    case .busybox: record = try images.buildBusybox(name: request.name)
    case .debian: record = try images.buildDebian(name: request.name, suite: request.suite)
    case .oci, .dockerArchive:
      throw HostError(
        .invalidArgument, "image build: source \(request.source.rawValue) is imported, not built (cella image import)")
    }
    log.info("image \(request.name): built (\(request.source.rawValue))")
    return record.info(usedBy: [])
  }

  public func importImage(_ request: ImportImageRequest) throws -> ImageInfo {
    let record = try images.importArchive(file: request.file, name: request.name)
    log.info("image \(request.name): imported from \(request.file)")
    return record.info(usedBy: [])
  }

  public func deleteImage(_ name: String) throws {
    try Names.check(name, as: "image")
    try imageUse.withLock { _ throws(HostError) in
      try images.delete(name, usedBy: imageUsers()[name] ?? [])
    }
    log.info("image \(name): deleted")
  }

  /// Image name → the guests made from it.
  func imageUsers() -> [String: [String]] {
    var users: [String: [String]] = [:]
    for name in guestNames() {
      if let record = try? loadRecord(name), let image = record.image { users[image, default: []].append(name) }
    }
    return users
  }
}
