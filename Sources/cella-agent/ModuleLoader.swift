import CShims
import CellaSys
import Glibc

/// Loads the kernel modules the initramfs lists, in order, the way modprobe would: `name.param=value` words of
/// the kernel command line become the module's parameters (microvm passes its virtio-mmio devices as
/// `virtio_mmio.device=…`).
enum ModuleLoader {
  /// Loads each `.ko` path of `list` (relative to /lib/modules/<release>; dependencies come first).
  static func loadListed(_ list: String) throws(SysError) {
    guard FileIO.exists(list) else { return }
    let release = kernelRelease()
    let parameters = parametersByModule(try FileIO.readString("/proc/cmdline"))
    for line in try FileIO.readString(list).split(separator: "\n") {
      let path = line.trimmingCharacters(in: " \t")
      if path.isEmpty || path.hasPrefix("#") { continue }
      try load("/lib/modules/\(release)/\(path)", parameters: parameters[moduleName(path)] ?? "")
    }
  }

  static func load(_ path: String, parameters: String) throws(SysError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SysError("open module", path: path) }
    defer { close(fd) }
    // EEXIST: built in or already loaded, which is what was asked for.
    if cella_finit_module(fd, parameters, 0) != 0 && errno != EEXIST { throw SysError("load module", path: path) }
  }

  /// `kernel/drivers/virtio/virtio_mmio.ko` -> `virtio_mmio` (the kernel writes `-` in names as `_`).
  static func moduleName(_ path: String) -> String {
    var base = path.split(separator: "/").last.map(String.init) ?? ""
    for suffix in [".ko", ".ko.xz", ".ko.zst", ".ko.gz"] where base.hasSuffix(suffix) {
      base = String(base.dropLast(suffix.count))
      break
    }
    return String(base.map { $0 == "-" ? "_" : $0 })
  }

  /// The `module.param=value` words of a kernel command line, joined per module as finit_module takes them.
  static func parametersByModule(_ cmdline: String) -> [String: String] {
    var out: [String: String] = [:]
    for word in cmdlineWords(cmdline) {
      guard let dot = word.firstIndex(of: "."), let eq = word.firstIndex(of: "="), dot < eq else { continue }
      let module = String(word[..<dot].map { $0 == "-" ? "_" : $0 })
      let param = String(word[word.index(after: dot)...])
      out[module, default: ""] += (out[module] == nil ? "" : " ") + param
    }
    return out
  }

  /// Splits on spaces outside double quotes (the kernel's own rule); the quotes stay in the words.
  static func cmdlineWords(_ cmdline: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quoted = false
    for c in cmdline {
      if c == "\"" { quoted.toggle() }
      if (c == " " || c == "\n" || c == "\t") && !quoted {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(c)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  static func kernelRelease() -> String {
    var u = utsname()
    uname(&u)
    return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  }
}
