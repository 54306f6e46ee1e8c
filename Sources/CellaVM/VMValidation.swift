/// The checks the builder runs before it writes a single argument; each names the config key at fault.
extension VMDescription {
  /// Throws the first problem found; on return every field is safe to put on QEMU's command line.
  public func validate() throws(VMError) {
    guard (1...VMLimits.maxMemoryMiB).contains(memoryMiB) else {
      throw VMError(.invalidArgument, "limits.memory: \(memoryMiB) MiB is outside 1…\(VMLimits.maxMemoryMiB) MiB")
    }
    guard (1...VMLimits.maxVCPUs).contains(vcpus) else {
      throw VMError(.invalidArgument, "limits.cpu: \(vcpus) vCPUs is outside 1…\(VMLimits.maxVCPUs)")
    }
    if let cpu, let problem = Self.cpuModelProblem(cpu) { throw VMError(.invalidArgument, "vm.cpu: \(problem)") }
    try validatePath(qmpSocket, field: "QMP socket", socket: true)
    if let eventsSocket { try validatePath(eventsSocket, field: "QMP event socket", socket: true) }
    try validateBoot()
    var fds: [Int32: String] = [:]
    func claim(_ fd: Int32, _ field: String) throws(VMError) {
      guard fd >= 3 else { throw VMError(.invalidArgument, "\(field): fd \(fd) is not a passed fd (0-2 are stdio)") }
      if let other = fds[fd] { throw VMError(.invalidArgument, "\(field): fd \(fd) is already \(other)") }
      fds[fd] = field
    }
    for (i, disk) in disks.enumerated() {
      if let fd = disk.fd { try claim(fd, "disk.\(i)") } else { try validatePath(disk.path, field: "disk.\(i).source") }
      if let ro = disk.readOnlyFD { try claim(ro, "disk.\(i) (read-only)") }
      if disk.readOnly && disk.volatile {
        throw VMError(
          .invalidArgument, "disk.\(i): readonly and volatile together; choose one (volatile already discards writes)")
      }
    }
    var macs: [String: Int] = [:]
    for (i, nic) in nics.enumerated() {
      try claim(nic.tapFD, "nic.\(i) tap")
      let mac = try VMMAC.normalize(nic.mac, field: "nic.\(i).hwaddr")
      if let other = macs[mac] { throw VMError(.invalidArgument, "nic.\(i).hwaddr: \(mac) is already nic.\(other)'s") }
      macs[mac] = i
    }
    let maxSerials = VMLimits.maxSerialPorts(machine)
    if serials.count > maxSerials {
      throw VMError(
        .unsupported,
        "serial.\(maxSerials): \(machine.rawValue) has \(maxSerials) serial port(s), serial.0…\(maxSerials - 1)")
    }
    if agentSockets.count > GuestBootConfig.maxAgentPorts {
      throw VMError(
        .invalidArgument,
        "agent ports: \(agentSockets.count), more than a virtio-serial device's \(GuestBootConfig.maxAgentPorts)")
    }
    for (i, path) in agentSockets.enumerated() { try validatePath(path, field: "agent port \(i + 1)", socket: true) }
    for (i, serial) in serials.enumerated() {
      switch serial {
      case .none, .stdio: break
      case .consoleSocket(let path): try validatePath(path, field: "serial.\(i)", socket: true)
      case .consoleFD(let fd): try claim(fd, "serial.\(i)")
      case .hostFD(let fd): try claim(fd, "serial.\(i)")
      }
    }
  }

  /// Why `text` is not a QEMU CPU model with optional features (`max`, `Haswell,-hle,+x2apic`): letters,
  /// digits and `-_.+=,` only, which keep it within its one `-cpu` argument.
  public static func cpuModelProblem(_ text: String) -> String? {
    let allowed = text.utf8.allSatisfy { c in
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x2e
        || c == 0x5f || c == 0x2b || c == 0x3d || c == 0x2c
    }
    guard !text.isEmpty, text.utf8.count <= 256, allowed, text.first != "," else {
      return "\(String(reflecting: text)) is not a QEMU CPU model (letters, digits and -_.+=, only)"
    }
    return nil
  }

  private func validateBoot() throws(VMError) {
    switch boot {
    case .kernel(let kernel, let initrd, let cmdline):
      try validatePath(kernel, field: "kernel")
      if let initrd { try validatePath(initrd, field: "initrd") }
      if cmdline.utf8.contains(0) || cmdline.utf8.contains(0x0a) || cmdline.utf8.contains(0x0d) {
        throw VMError(.invalidArgument, "cmdline: contains a NUL or line break")
      }
    case .firmware:
      if machine == .microvm {
        throw VMError(
          .unsupported, "vm.machine: microvm has no firmware boot; boot a kernel directly or use q35 or pc for a disk")
      }
      if disks.isEmpty { throw VMError(.invalidArgument, "disk.0.source: firmware boot needs a disk to boot from") }
    }
  }

  private func validatePath(_ path: String, field: String, socket: Bool = false) throws(VMError) {
    // Absolute paths only: QEMU reads "proto:…" (json:, nbd:, http:) before the first '/' as a protocol.
    guard path.hasPrefix("/") else {
      throw VMError(.invalidArgument, "\(field): \(String(reflecting: path)) is not an absolute path")
    }
    guard !path.utf8.contains(0) else { throw VMError(.invalidArgument, "\(field): path contains a NUL byte") }
    if socket && path.utf8.count > VMLimits.maxSocketPathBytes {
      throw VMError(
        .invalidArgument,
        "\(field): socket path is \(path.utf8.count) bytes, longer than \(VMLimits.maxSocketPathBytes)")
    }
  }
}
