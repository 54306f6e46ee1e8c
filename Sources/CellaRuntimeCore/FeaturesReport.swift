import CellaOCI
import CellaSecurity

/// What `features` reports: only what this build implements.
public enum FeaturesReport {
  public static func make() -> Features {
    var f = Features()
    f.ociVersionMin = "1.0.0"
    f.ociVersionMax = "1.3.0"
    f.hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    f.mountOptions = MountOptions.supportedOptions
    var linux = Features.Linux()
    linux.namespaces = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
    linux.capabilities = Capabilities.allNames()
    linux.cgroup = Features.Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: true)
    linux.seccomp = Features.Seccomp(
      enabled: true, actions: SeccompFeatures.actions, operators: SeccompFeatures.operators,
      archs: SeccompFeatures.archs, knownFlags: SeccompFeatures.knownFlags,
      supportedFlags: SeccompFeatures.supportedFlags)
    linux.apparmor = Features.Enabled(enabled: false)
    linux.selinux = Features.Enabled(enabled: false)
    linux.intelRdt = Features.IntelRdt(enabled: false)
    f.linux = linux
    f.annotations = ["run.cella.runtime": "cella-runtime"]
    return f
  }
}
