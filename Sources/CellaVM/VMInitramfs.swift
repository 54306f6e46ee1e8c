import CellaErrors
import CellaSys
import Glibc

/// The initramfs of a VM guest booted from an image: cella's agent as `/init`, the kernel modules it loads,
/// and (appended per guest) its boot configuration. Uncompressed: the kernel unpacks it without a
/// decompressor, and the base is shared by every guest on the host's page cache.
public enum VMInitramfs {
  /// Where the agent finds the module list and its configuration.
  public static let modulesList = "cella/modules"
  public static let configPath = "cella/guest.json"

  /// Writes the base archive to `output` (replaced atomically, 0644): `/init` = the static executable
  /// `agent`, `modules` with their dependencies from `modulesDir` (default `/lib/modules/<kernelVersion>`)
  /// under `/lib/modules/<kernelVersion>/` at their own relative paths, `/cella/modules` listing them
  /// dependencies first, one per line, and the directories and `/dev/console` node the agent starts with.
  /// Returns the module set it holds.
  @discardableResult
  public static func base(
    agent: String, kernelVersion: String, modulesDir: String? = nil, modules: [String] = ModuleSet.guestModules,
    output: String
  ) throws(VMError) -> ModuleSet {
    guard !kernelVersion.isEmpty, !kernelVersion.contains("/"), kernelVersion != ".", kernelVersion != ".." else {
      throw VMError(.invalidArgument, "kernel version \"\(kernelVersion)\" is not a directory name")
    }
    let dir = modulesDir ?? "/lib/modules/" + kernelVersion
    let set = try ModuleSet.resolve(modules, modulesDir: dir)
    let agentBytes = try read(agent, limit: 256 << 20)
    try checkStatic(agentBytes, path: agent)
    var cpio = CpioWriter()
    for name in ["dev", "proc", "sys", "newroot", "cella", "lib", "lib/modules"] { try cpio.directory(name) }
    try cpio.characterDevice("dev/console", major: 5, minor: 1)
    try cpio.file("init", mode: 0o755, data: agentBytes)
    let root = "lib/modules/" + kernelVersion
    var made: Set<String> = []
    for path in set.paths {
      let parts = path.split(separator: "/").map(String.init)
      var prefix = root
      for part in [""] + parts.dropLast() {
        if !part.isEmpty { prefix += "/" + part }
        if made.insert(prefix).inserted { try cpio.directory(prefix) }
      }
      try cpio.file(root + "/" + path, data: try read(dir + "/" + path, limit: 64 << 20))
    }
    try cpio.file(modulesList, data: Array(set.paths.map { $0 + "\n" }.joined().utf8))
    try write(cpio.finish(), to: output, mode: 0o644)
    return set
  }

  /// Writes `output` (replaced atomically): the base archive at `base` followed by a second archive holding
  /// `/cella/guest.json` = `config` (the kernel unpacks concatenated archives in turn). `mode` is the
  /// file's: the config may hold the guest's environment, so it is private by default and the caller makes
  /// it readable to QEMU's user.
  public static func guest(base: String, config: [UInt8], output: String, mode: mode_t = 0o600) throws(VMError) {
    var bytes = try read(base, limit: 512 << 20)
    guard bytes.count % 4 == 0, bytes.starts(with: Array("070701".utf8)) else {
      throw VMError(.invalidArgument, "\(base): not a newc cpio archive")
    }
    var extra = CpioWriter()
    try extra.file(configPath, mode: 0o600, data: config)
    bytes += extra.finish()
    try write(bytes, to: output, mode: mode)
  }

  /// Refuses anything but an x86-64 ELF executable without an interpreter: /init runs where no shared
  /// library exists.
  static func checkStatic(_ bytes: [UInt8], path: String) throws(VMError) {
    guard bytes.count >= 64, bytes[0..<4].elementsEqual([0x7f, 0x45, 0x4c, 0x46]), bytes[4] == 2, bytes[5] == 1,
      KernelImage.le16(bytes, 18) == 62
    else {
      throw VMError(.invalidArgument, "\(path): not an x86-64 ELF executable (the guest's /init must be one)")
    }
    let phoff = Int(clamping: KernelImage.le64(bytes, 32))
    let phentsize = Int(KernelImage.le16(bytes, 54))
    let phnum = Int(KernelImage.le16(bytes, 56))
    guard phentsize >= 56, phoff >= 0, phoff <= bytes.count, phnum <= (bytes.count - phoff) / phentsize else {
      throw VMError(.invalidArgument, "\(path): bad ELF program header table")
    }
    for i in 0..<phnum where KernelImage.le32(bytes, phoff + i * phentsize) == 3 {  // PT_INTERP
      throw VMError(
        .invalidArgument, "\(path): dynamically linked; the guest's /init must be a static executable")
    }
  }

  static func read(_ path: String, limit: Int) throws(VMError) -> [UInt8] {
    var st = stat()
    guard stat(path, &st) == 0 else { throw VMError(path, errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else { throw VMError(.invalidArgument, "\(path): not a regular file") }
    guard st.st_size <= limit else { throw VMError(.invalidArgument, "\(path): larger than \(limit >> 20) MiB") }
    do { return try FileIO.read(path, limit: limit) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(error)")
    }
  }

  static func write(_ bytes: [UInt8], to output: String, mode: mode_t) throws(VMError) {
    do { try FileIO.writeAtomically(path: output, bytes, mode: mode, durable: false) } catch {
      throw VMError(ErrorKind.from(errno: error.errno), "\(error)")
    }
  }
}
