import CellaOCI
import CellaSecurity
import CellaSys
import Glibc

/// The config `spec` writes: runc's defaults plus the shipped seccomp profile and capability set.
public enum DefaultConfig {
  public static func make() throws(RuntimeError) -> Spec {
    var spec = DefaultSpec.make()
    do {
      spec.linux?.seccomp = try OCIJSON.decode(
        LinuxSeccomp.self, from: Array(DefaultSeccompProfile.json.utf8), file: "Profiles/seccomp/default.json")
    } catch { throw RuntimeError(error) }
    return spec
  }
}

extension DefaultConfig {
  /// `spec`: writes the default config.json into `bundle`, refusing to overwrite one.
  public static func write(bundle: String) throws(RuntimeError) {
    let path = absolutePath(bundle) + "/config.json"
    let bytes = DefaultSpec.encode(try make())
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    if fd < 0 {
      if errno == EEXIST { throw RuntimeError("\(path) exists; remove it first") }
      throw RuntimeError("create \(path): \(SysError.describe(errno))")
    }
    defer { close(fd) }
    try RuntimeError.wrap("write \(path)") { try FileIO.writeAll(fd: fd, bytes, path: path) }
  }
}
