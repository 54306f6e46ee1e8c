import CellaCgroups
import CellaOCI
import CellaSys
import Glibc

/// The cgroup directories above containers' own cgroups that `create` made (a nested cgroupsPath is
/// made like mkdir -p), kept in `<root>/.cgroup-parents.json` so that `delete` removes them again, and
/// only them: a parent that was there before stays.
///
/// One list for the store rather than one per container: the container that made a shared parent may
/// be deleted while another still uses it, and the last user must then know the parent is ours.
/// Whoever reads or writes the list holds the store lock (flock on the root directory), so a delete
/// cannot remove a parent between a create's look and its mkdir.
package struct CgroupParents {
  let file: String
  /// Directories (one per hierarchy, full paths) in the order they were made.
  private(set) var directories: [String]

  /// Records `directories` on disk (one write for all); called before they are made, so that a
  /// killed create leaks nothing. Those already recorded cost nothing.
  package mutating func add(_ new: [String]) throws(RuntimeError) {
    let missing = new.filter { !directories.contains($0) }
    if missing.isEmpty { return }
    directories += missing
    try save()
  }

  /// Takes back records made by `add` for directories that were not made after all.
  package mutating func forget(_ old: [String]) throws(RuntimeError) {
    let recorded = old.filter { directories.contains($0) }
    if recorded.isEmpty { return }
    directories.removeAll { recorded.contains($0) }
    try save()
  }

  /// Removes, deepest first, the recorded parents of the cgroup held in `leafDirectories` that are now
  /// empty; those another container still uses stay recorded. Returns a line for each parent that
  /// holds no cgroup and still could not be removed.
  mutating func removeEmpty(above leafDirectories: [String]) throws(RuntimeError) -> [String] {
    let above = directories.filter { dir in leafDirectories.contains { $0.hasPrefix(dir + "/") } }
    if above.isEmpty { return [] }
    let deepestFirst = above.sorted { $0.count > $1.count }
    let left = Cgroups.removeEmptyDirectories(deepestFirst)
    let removed = Set(deepestFirst).subtracting(left.map(\.directory))
    if !removed.isEmpty {
      directories.removeAll { removed.contains($0) }
      try save()
    }
    return left.filter { !$0.inUse }.map {
      "cannot remove cgroup parent \($0.directory): \(SysError.describe($0.errno)) (it stays recorded in \(file))"
    }
  }

  /// Not fsynced: cgroups do not outlive a reboot, so neither need their records; a process killed
  /// midway still leaves the renamed file. (One save per hierarchy made: ten fsync pairs cost ~5 ms.)
  private func save() throws(RuntimeError) {
    if directories.isEmpty {
      unlink(file)
      return
    }
    let parts = file.split(separator: "/")
    try RuntimeError.wrap("save \(file)") {
      try FileIO.writeAtomically(
        directory: "/" + parts.dropLast().joined(separator: "/"), name: String(parts.last ?? ""),
        OCIJSON.encode(directories, pretty: false), durable: false)
    }
  }
}

extension StateStore {
  /// Runs `body` with the store's parent list, holding the store lock.
  package func withCgroupParents<T>(_ body: (inout CgroupParents) throws(RuntimeError) -> T) throws(RuntimeError) -> T {
    let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 {
      throw RuntimeError("cannot open \(root): \(SysError.describe(errno)) (check --root)", kind: .invalidArgument)
    }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      if errno != EINTR { throw RuntimeError("cannot lock \(root)", errno: errno) }
    }
    let file = "\(root)/.cgroup-parents.json"
    // A damaged list only costs leftover empty parents, never a container: read it as empty.
    let loaded = (try? FileIO.read(file)).flatMap { try? OCIJSON.decode([String].self, from: $0, file: file) }
    var parents = CgroupParents(file: file, directories: loaded ?? [])
    return try body(&parents)
  }
}
