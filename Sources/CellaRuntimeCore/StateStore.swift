import CellaOCI
import CellaSys
import Glibc

/// The runtime's state directory (`--root`, default /run/cella): one directory per container.
public struct StateStore: Sendable {
  public let root: String

  public init(root: String) { self.root = root }

  /// Where compiled seccomp filters are cached (a dot directory: never mistaken for a container).
  public var seccompCacheDirectory: String { "\(root)/.cache/seccomp" }

  /// Path of a container's directory.
  public func directory(_ id: String) -> String { "\(root)/\(id)" }

  /// Creates the state root (mode 0711) if needed.
  public func ensureRoot() throws(RuntimeError) {
    var path = ""
    for part in root.split(separator: "/") {
      path += "/\(part)"
      if mkdir(path, 0o711) != 0 && errno != EEXIST {
        throw RuntimeError(
          "cannot create state directory \(path): \(SysError.describe(errno)) (check --root)", kind: .invalidArgument)
      }
    }
  }

  /// Creates a new container directory; fails if the id is taken.
  public func createDirectory(_ id: String) throws(RuntimeError) {
    if mkdir(directory(id), 0o711) != 0 {
      if errno == EEXIST { throw RuntimeError("container \"\(id)\" already exists", kind: .alreadyExists) }
      throw RuntimeError("cannot create \(directory(id))", errno: errno)
    }
  }

  /// Whether a directory exists for this id.
  public func exists(_ id: String) -> Bool { FileIO.exists(directory(id)) }

  /// Loads a container's record.
  public func load(_ id: String) throws(RuntimeError) -> ContainerRecord {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.read("\(directory(id))/state.json")
    } catch {
      if error.errno == ENOENT { throw RuntimeError("container \"\(id)\" does not exist", kind: .notFound) }
      throw RuntimeError("cannot read state of container \"\(id)\"", error)
    }
    let file = "\(directory(id))/state.json"
    do {
      let record = try OCIJSON.decode(ContainerRecord.self, from: bytes, file: file)
      // A negative pid would reach kill(2) as a process group, or everything (-1).
      try IntegerRange.check(record.pid, in: ContainerRecord.pids, "\(file): pid")
      return record
    } catch {
      throw RuntimeError("\(error.message) (the state is damaged; delete --force removes it)", kind: .system)
    }
  }

  /// Saves a container's record atomically. Not fsynced: a container does not outlive a reboot, so
  /// neither need its record (runc's state lives on tmpfs and is not synced either), and a create
  /// killed midway still leaves the renamed file for delete to find. The fsyncs cost ~3 ms a create
  /// on an ext4 root (Docs/benchmarks.md).
  public func save(_ record: ContainerRecord) throws(RuntimeError) {
    let bytes = OCIJSON.encode(record, pretty: false, trailingNewline: true)
    try RuntimeError.wrap("save state of \"\(record.id)\"") {
      try FileIO.writeAtomically(directory: directory(record.id), name: "state.json", bytes, durable: false)
    }
  }

  /// Saves the container's copy of its config (later edits of the bundle must not affect it).
  public func saveConfig(_ id: String, _ bytes: [UInt8]) throws(RuntimeError) {
    try RuntimeError.wrap("save config of \"\(id)\"") {
      try FileIO.writeAtomically(directory: directory(id), name: "config.json", bytes, durable: false)
    }
  }

  /// Loads the container's config copy.
  public func loadConfig(_ id: String) throws(RuntimeError) -> Spec {
    let bytes = try RuntimeError.wrap("read config of \"\(id)\"") { try FileIO.read("\(directory(id))/config.json") }
    do { return try SpecLoader.decode(bytes, file: "\(directory(id))/config.json") } catch {
      throw RuntimeError(error)
    }
  }

  /// Removes a container's directory.
  public func remove(_ id: String) throws(RuntimeError) {
    try RuntimeError.wrap("remove state of \"\(id)\"") { try FileIO.removeTree(directory(id)) }
  }

  /// Ids of all containers, sorted.
  public func list() -> [String] {
    ((try? FileIO.listDirectory(root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
  }

  /// Takes the container's exclusive lock; released when the fd is closed (or the process exits).
  public func lock(_ id: String) throws(RuntimeError) -> Int32 {
    let fd = open(directory(id), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { throw RuntimeError("container \"\(id)\" does not exist", kind: .notFound) }
      throw RuntimeError("cannot open \(directory(id))", errno: errno)
    }
    while flock(fd, LOCK_EX) != 0 {
      if errno == EINTR { continue }
      let e = errno
      close(fd)
      throw RuntimeError("cannot lock \(directory(id))", errno: e)
    }
    return fd
  }
}
