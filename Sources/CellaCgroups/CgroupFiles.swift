import CShims
import CellaSys
import Glibc

/// File operations on cgroupfs (or on a plain directory tree standing in for it in tests).
enum CgroupFiles {
  /// cgroup (v1) and cgroup2 superblock magic numbers.
  static let v1Magic: Int64 = 0x0027_e0eb
  static let v2Magic: Int64 = 0x6367_7270

  /// Writes `value` to `dir/file` for the spec field `field`.
  static func write(
    _ field: String, _ dir: String, _ file: String, _ value: String, busyHint: String? = nil
  ) throws(CgroupError) {
    let path = "\(dir)/\(file)"
    do {
      // O_TRUNC keeps a plain test file exact; cgroupfs ignores it.
      let fd = try FileDescriptor.open(path, flags: O_WRONLY | O_TRUNC)
      try FileIO.writeAll(fd: fd.rawValue, Array(value.utf8), path: path)
    } catch {
      let e = SysError(error.operation == "open" ? "open" : "write", path: path, errno: error.errno)
      throw CgroupError.sys(field, e, value: value, busyHint: busyHint)
    }
  }

  /// The trimmed contents of a file, or nil.
  static func read(_ path: String) -> String? {
    guard let text = try? FileIO.readString(path) else { return nil }
    return text.trimmingCharacters(in: " \t\n")
  }

  /// A file's contents as an unsigned integer ("max" → nil).
  static func readUInt(_ path: String) -> UInt64? {
    guard let text = read(path) else { return nil }
    return UInt64(text)
  }

  /// "key value" lines as a dictionary (memory.stat, cpu.stat, memory.events, ...).
  static func readKeyed(_ path: String) -> [String: UInt64] {
    var out: [String: UInt64] = [:]
    guard let text = read(path) else { return out }
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, let v = UInt64(parts[1]) { out[String(parts[0])] = v }
    }
    return out
  }

  /// mkdir -p of the cgroup `path` below the mount point `root`; existing directories are fine, and
  /// `events` hears of them. Each missing ancestor is announced (`willMakeParent`) before its mkdir,
  /// and if someone else made it in between, `parentExisted` takes the announcement back. A parent
  /// that vanishes half-way (a concurrent delete removed a shared empty parent) is made again, and
  /// announced again.
  static func makeDirectories(
    _ path: String, under root: String, field: String, events: (CgroupCreateEvent) throws(CgroupError) -> Void
  ) throws(CgroupError) {
    let all = path.split(separator: "/")
    var attempts = 0
    var current = root
    var components = all[...]
    while let component = components.popFirst() {
      current += "/\(component)"
      let isLeaf = components.isEmpty
      if !isLeaf {
        if FileIO.isDirectory(current) { continue }
        try events(.willMakeParent(current))
      }
      if mkdir(current, 0o755) == 0 { continue }
      if errno == EEXIST {
        try events(isLeaf ? .leafExisted(current) : .parentExisted(current))
        continue
      }
      if errno == ENOENT && attempts < 3 {
        attempts += 1
        current = root
        components = all[...]
        continue
      }
      throw CgroupError.sys(field, SysError("mkdir", path: current))
    }
  }

  /// Subdirectories (child cgroups) of `dir`.
  static func childDirectories(_ dir: String) -> [String] {
    ((try? FileIO.listDirectory(dir)) ?? []).filter { FileIO.isDirectory("\(dir)/\($0)") }
  }

  /// Pids listed in cgroup.procs of `dir` and of every descendant.
  static func processes(_ dir: String) -> [Int32] {
    var out: [Int32] = []
    if let text = read("\(dir)/cgroup.procs") {
      out += text.split(separator: "\n").compactMap { Int32($0) }
    }
    for child in childDirectories(dir) { out += processes("\(dir)/\(child)") }
    return out
  }

  /// Removes a cgroup directory, children first. On cgroupfs only rmdir is used (the kernel
  /// removes the files); a plain tree (tests) also loses its files. EBUSY is retried briefly
  /// because the kernel releases a cgroup a moment after its last task exits.
  static func remove(_ dir: String) throws(CgroupError) {
    // The common case, an empty leaf, needs one syscall; listing a v1 cgroup directory costs ~0.5 ms.
    if rmdir(dir) == 0 || errno == ENOENT { return }
    guard FileIO.isDirectory(dir) else { return }
    for child in childDirectories(dir) { try remove("\(dir)/\(child)") }
    let magic = cella_statfs_type(dir)
    if magic != v1Magic && magic != v2Magic {
      for name in (try? FileIO.listDirectory(dir)) ?? [] where !FileIO.isDirectory("\(dir)/\(name)") {
        unlink("\(dir)/\(name)")
      }
    }
    var delay: UInt32 = 1_000
    var waited: UInt32 = 0
    while true {
      if rmdir(dir) == 0 || errno == ENOENT { return }
      let e = errno
      // Live tasks will not leave by themselves: give them only a moment, not the full second.
      let budget: UInt32 = processes(dir).isEmpty ? 1_000_000 : 20_000
      if e != EBUSY || waited >= budget {
        let hint = e == EBUSY ? "processes are still in the cgroup: kill them first" : nil
        throw CgroupError.sys("cgroup destroy", SysError("rmdir", path: dir, errno: e), busyHint: hint)
      }
      usleep(delay)
      waited += delay
      delay = min(delay * 2, 100_000)
    }
  }

  /// Polls `body` until it returns true or about `milliseconds` pass.
  static func waitUntil(milliseconds: Int, _ body: () -> Bool) -> Bool {
    var waited = 0
    while waited < milliseconds {
      if body() { return true }
      usleep(2_000)
      waited += 2
    }
    return body()
  }
}
