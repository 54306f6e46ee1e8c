import CellaOCI

/// Device cgroup rules every container gets after its own (as runc and crun add them): without
/// them a config that denies everything would break /dev/null, /dev/ptmx and every terminal.
package enum DeviceRules {
  static let defaults: [LinuxDeviceCgroup] = [
    LinuxDeviceCgroup(allow: true, type: "c", access: "m"),
    LinuxDeviceCgroup(allow: true, type: "b", access: "m"),
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),  // null
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),  // zero
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),  // full
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),  // random
    LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),  // urandom
    LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),  // tty
    LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),  // ptmx
    LinuxDeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"),  // pts
    LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),  // net/tun
  ]

  /// The config's resources with the default rules and one rule per linux.devices entry appended,
  /// when the config restricts devices at all.
  package static func effective(_ resources: LinuxResources?, devices: [LinuxDevice]) -> LinuxResources? {
    guard var r = resources, let rules = r.devices, !rules.isEmpty else { return resources }
    let configured = devices.compactMap { d -> LinuxDeviceCgroup? in
      guard let major = d.major, let minor = d.minor, let type = DeviceType(rawValue: d.type)?.cgroupType else {
        return nil
      }
      return LinuxDeviceCgroup(allow: true, type: type, major: major, minor: minor, access: "rwm")
    }
    r.devices = rules + defaults + configured
    return r
  }
}
