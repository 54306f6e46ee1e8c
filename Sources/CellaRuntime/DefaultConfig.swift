import CellaOCI
import CellaSecurity

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
