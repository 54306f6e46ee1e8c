import CellaAPI
import CellaSys
import Glibc
import Yams

/// The images of a store: images/NAME/{image.yaml, rootfs/}, made in a hidden temporary directory and
/// renamed into place at the end, so a failed or killed build leaves nothing a listing shows.
public struct ImageStore: Sendable {
  public let layout: StoreLayout
  /// Where lines about skipped archive entries go (the daemon's log); stderr by default.
  public var warn: @Sendable (String) -> Void = { line in
    let text = line + "\n"
    _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
  }

  /// The prefix of every build's temporary directory in images/ (what `removeLeftovers` removes).
  static let tempPrefix = ".tmp-"

  public init(layout: StoreLayout) { self.layout = layout }

  /// Every image, sorted by name.
  public func list() throws(HostError) -> [ImageRecord] {
    guard FileIO.isDirectory(layout.images) else { return [] }
    let names: [String]
    do { names = try FileIO.listDirectory(layout.images) } catch { throw HostError("list images", error) }
    var out: [ImageRecord] = []
    for name in names.sorted() where !name.hasPrefix(".") && FileIO.exists(layout.imageRecord(name)) {
      out.append(try read(name))
    }
    return out
  }

  /// One image's record; not-found when there is none.
  public func record(_ name: String) throws(HostError) -> ImageRecord {
    try Names.check(name, as: "image")
    guard FileIO.exists(layout.imageRecord(name)) else {
      throw HostError(.notFound, "image \"\(name)\" does not exist")
    }
    return try read(name)
  }

  /// Builds a small busybox system from the host's busybox-static (offline).
  public func buildBusybox(name: String) throws(HostError) -> ImageRecord {
    try stage(name) { (rootfs) throws(HostError) in
      (.busybox, "/bin/busybox", try BusyboxImage.build(into: rootfs))
    }
  }

  /// Builds a Debian minbase system with debootstrap from the host's Debian mirror (cached per suite).
  public func buildDebian(name: String, suite: String?) throws(HostError) -> ImageRecord {
    let suite = suite ?? DebianImage.defaultSuite
    try DebianImage.check(suite: suite)
    let debian = DebianImage(layout: layout, suite: suite)
    try debian.checkHost()
    return try stage(name) { (rootfs) throws(HostError) in
      (.debian, suite, try debian.build(into: rootfs, warn: warn))
    }
  }

  /// Imports an OCI image layout (directory or tar) or a docker archive.
  public func importArchive(file: String, name: String) throws(HostError) -> ImageRecord {
    guard file.hasPrefix("/") else {
      throw HostError(
        .invalidArgument, "image file \(quote(file)) must be an absolute path (the daemon's directory is not yours)")
    }
    return try stage(name) { (rootfs) throws(HostError) in
      let (source, process, warnings) = try ImageImporter(file: file).run(into: rootfs)
      for line in warnings { warn("image \(name): \(file): \(line)") }
      return (source, file, process)
    }
  }

  /// Deletes an image; refused (invalid-state) while guests use it.
  public func delete(_ name: String, usedBy: [String]) throws(HostError) {
    _ = try record(name)
    guard usedBy.isEmpty else {
      throw HostError(
        .invalidState, "image \"\(name)\" is used by \(usedBy.joined(separator: ", ")); delete them first")
    }
    // Renamed out of sight first, so a delete cut short leaves a leftover, not half an image.
    let doomed = tempDirectory(name)
    if rename(layout.image(name), doomed) != 0 {
      throw HostError("delete image", path: layout.image(name), errno: errno)
    }
    try TreeOps.remove(path: doomed)
  }

  /// The root filesystem of an image (the overlay's read-only lower layer).
  public func rootfs(_ name: String) -> String { layout.imageRootfs(name) }

  /// Removes what builds, imports and deletes cut short left behind (the daemon calls it at start).
  public static func removeLeftovers(layout: StoreLayout) throws(HostError) {
    for dir in [layout.images, layout.imageCache] where FileIO.isDirectory(dir) {
      let names: [String]
      do { names = try FileIO.listDirectory(dir) } catch { throw HostError("list", error) }
      for name in names where name.hasPrefix(tempPrefix) { try TreeOps.remove(path: dir + "/" + name) }
    }
  }

  private func read(_ name: String) throws(HostError) -> ImageRecord {
    let path = layout.imageRecord(name)
    let text: String
    do { text = try FileIO.readString(path) } catch { throw HostError("", error) }
    do {
      return try YAMLDecoder(encoding: .utf8).decode(ImageRecord.self, from: text)
    } catch {
      throw HostError(.invalidArgument, "\(path): \(error)")
    }
  }

  private func tempDirectory(_ name: String) -> String {
    layout.images + "/" + Self.tempPrefix + name + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
  }

  /// Runs `build` on a fresh rootfs in a temporary directory, writes image.yaml, renames it into place.
  private func stage(
    _ name: String, _ build: (String) throws(HostError) -> (ImageSource, String?, ImageProcess)
  ) throws(HostError) -> ImageRecord {
    try Names.check(name, as: "image")
    if FileIO.exists(layout.image(name)) { throw HostError(.alreadyExists, "image \"\(name)\" already exists") }
    try Self.makeImagesDirectory(layout)
    let tmp = tempDirectory(name)
    // 0700: an image may hold setuid-root files no host user may reach.
    if mkdir(tmp, 0o700) != 0 { throw HostError("mkdir", path: tmp, errno: errno) }
    do throws(HostError) {
      let rootfs = tmp + "/rootfs"
      if mkdir(rootfs, 0o755) != 0 { throw HostError("mkdir", path: rootfs, errno: errno) }
      let (source, origin, process) = try build(rootfs)
      let record = ImageRecord(
        name: name, source: source, origin: origin, created: Timestamp.now(), size: TreeOps.diskUsage(rootfs),
        process: process)
      let yaml: String
      do { yaml = try YAMLEncoder().encode(record) } catch {
        throw HostError(.internal, "image \"\(name)\": encode image.yaml: \(error)")
      }
      do { try FileIO.writeAtomically(directory: tmp, name: "image.yaml", Array(yaml.utf8), mode: 0o644) } catch {
        throw HostError("", error)
      }
      // rename(2) onto a directory that is not empty fails: a build that lost a race finds its name taken.
      if rename(tmp, layout.image(name)) != 0 {
        if errno == EEXIST || errno == ENOTEMPTY || errno == ENOTDIR {
          throw HostError(.alreadyExists, "image \"\(name)\" already exists")
        }
        throw HostError("rename", path: tmp, errno: errno)
      }
      return record
    } catch {
      try? TreeOps.remove(path: tmp)
      throw error
    }
  }

  /// Makes the state dir's images/ (mode 0700) when missing.
  static func makeImagesDirectory(_ layout: StoreLayout) throws(HostError) {
    for (dir, mode) in [(layout.root, mode_t(0o711)), (layout.images, mode_t(0o700))] where !FileIO.isDirectory(dir) {
      if mkdir(dir, mode) != 0 && errno != EEXIST { throw HostError("mkdir", path: dir, errno: errno) }
    }
  }
}
