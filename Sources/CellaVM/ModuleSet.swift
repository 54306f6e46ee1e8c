import CellaErrors
import CellaSys

/// Kernel modules named by the caller plus everything they depend on, in a loadable order, resolved from
/// a kernel's `modules.dep` (what modprobe would do, done on the host: the guest's init has no kmod).
public struct ModuleSet: Sendable, Equatable {
  /// Paths relative to the modules directory (`kernel/drivers/...ko`), every module after its dependencies.
  public let paths: [String]
  /// Requested names that the kernel has built in (`modules.builtin`): nothing to load.
  public let builtin: [String]

  /// What a cella guest booted from an image needs: virtio on PCI (q35/pc) and MMIO (microvm), its disk,
  /// NICs and agent ports, and ext4 with the checksum driver its metadata_csum asks for by name (the
  /// kernel's request_module finds no modprobe in the initramfs).
  public static let guestModules = [
    "virtio_pci", "virtio_mmio", "virtio_blk", "virtio_net", "virtio_console", "crc32c_generic", "ext4",
    // The ACPI power button as an input device (`cella stop`), and QEMU's pvpanic device (guest-panic).
    "button", "evdev", "pvpanic_mmio",
  ]

  /// Resolves `names` against `modulesDir` (`/lib/modules/<version>`); an unknown name is an error.
  public static func resolve(_ names: [String], modulesDir: String) throws(VMError) -> ModuleSet {
    let depPath = modulesDir + "/modules.dep"
    let depText: String
    do { depText = String(decoding: try FileIO.read(depPath, limit: 32 << 20), as: UTF8.self) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(error)")
    }
    let builtinText = (try? FileIO.read(modulesDir + "/modules.builtin", limit: 8 << 20)) ?? []
    return try resolve(
      names, dep: depText, builtin: String(decoding: builtinText, as: UTF8.self), depPath: depPath)
  }

  /// Resolves `names` against the text of a `modules.dep` and a `modules.builtin`.
  static func resolve(_ names: [String], dep: String, builtin: String, depPath: String) throws(VMError)
    -> ModuleSet
  {
    var depsOf: [String: [String]] = [:]
    var pathOf: [String: String] = [:]
    for line in dep.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let path = String(line[..<colon])
      depsOf[path] = line[line.index(after: colon)...].split(separator: " ").map(String.init)
      pathOf[moduleName(path)] = path
    }
    let builtinNames = Set(builtin.split(separator: "\n").map { moduleName(String($0)) })
    var ordered: [String] = []
    var placed: Set<String> = []
    var builtinHit: [String] = []
    // Depth-first, dependencies before the module; `visiting` catches a cyclic (corrupt) modules.dep.
    func place(_ path: String, _ visiting: inout Set<String>) throws(VMError) {
      if placed.contains(path) { return }
      guard visiting.insert(path).inserted else {
        throw VMError(.invalidArgument, "\(depPath): dependency cycle through \(path)")
      }
      guard let deps = depsOf[path] else {
        throw VMError(.notFound, "\(depPath): \(path) is named as a dependency but has no entry")
      }
      for dep in deps { try place(dep, &visiting) }
      visiting.remove(path)
      placed.insert(path)
      ordered.append(path)
    }
    for name in names {
      let key = underscored(name)
      if let path = pathOf[key] {
        var visiting: Set<String> = []
        try place(path, &visiting)
      } else if builtinNames.contains(key) {
        builtinHit.append(name)
      } else {
        throw VMError(.notFound, "\(depPath): no module \(name) (neither a .ko nor built in)")
      }
    }
    return ModuleSet(paths: ordered, builtin: builtinHit)
  }

  /// A module's name from its path: the file name without `.ko[.xz|.zst|.gz]`, `-` read as `_` (as kmod does).
  static func moduleName(_ path: String) -> String {
    let base = String(path.split(separator: "/").last ?? "")
    for suffix in [".ko", ".ko.xz", ".ko.zst", ".ko.gz"] where base.hasSuffix(suffix) {
      return underscored(String(base.dropLast(suffix.count)))
    }
    return underscored(base)
  }

  static func underscored(_ name: String) -> String { String(name.map { $0 == "-" ? "_" : $0 }) }
}
