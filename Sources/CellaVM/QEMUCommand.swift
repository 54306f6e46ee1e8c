/// QEMU's argv for a VM description: pure, validated, every path and name escaped for QEMU's option parser.
public enum QEMUCommand {
  /// The system emulator cella runs.
  public static let executable = "qemu-system-x86_64"
  /// QEMU's own seccomp filter: no obsolete syscalls, no setuid, no fork/exec, no scheduler or affinity changes.
  public static let sandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

  /// The full argv (argv[0] is `executable`). `tscKHz` is the host's TSC frequency (`HostTSC.kHz()`); microvm
  /// under TCG needs it for `tsc_early_khz=`, other VMs ignore it.
  public static func argv(_ vm: VMDescription, tscKHz: Int?, executable: String = executable) throws(VMError)
    -> [String]
  {
    try vm.validate()
    var a = [executable]
    a += ["-machine", machine(vm)]
    if let cpu = vm.cpu { a += ["-cpu", cpu] }
    a += ["-smp", String(vm.vcpus), "-m", "\(vm.memoryMiB)M"]
    // No default devices, no config files read from the host, no window; reboot means stop; no pidfile
    // (the keeper knows the pid).
    a += ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
    a += ["-sandbox", sandbox]
    a += ["-rtc", "base=\(vm.clock.rawValue)"]
    a += ["-chardev", QEMUOption.join("socket", ["id": "qmp", "path": vm.qmpSocket, "server": "on", "wait": "off"])]
    a += ["-mon", "chardev=qmp,mode=control"]
    if let events = vm.eventsSocket {
      a += ["-chardev", QEMUOption.join("socket", ["id": "events", "path": events, "server": "off"])]
      a += ["-mon", "chardev=events,mode=control"]
    }
    // A panic ends the run as a shutdown whose reason says so (the keeper records it).
    a += ["-action", "panic=shutdown"]
    a += ["-device", "pvpanic"]
    switch vm.boot {
    case .kernel(let kernel, let initrd, let cmdline):
      // -kernel, -initrd and -append take their argument whole: nothing to escape.
      a += ["-kernel", kernel]
      if let initrd { a += ["-initrd", initrd] }
      a += ["-append", try kernelCmdline(vm, cmdline, tscKHz: tscKHz)]
    case .firmware:
      break
    }
    let bus = vm.machine == .microvm ? "device" : "pci"
    for (i, disk) in vm.disks.enumerated() {
      var file = disk.path
      if let fd = disk.fd {
        // Opened outside the jail: QEMU takes it from fd set `fd` rather than opening a host path.
        a += ["-add-fd", "fd=\(fd),set=\(fd)"]
        if let ro = disk.readOnlyFD { a += ["-add-fd", "fd=\(ro),set=\(fd)"] }
        file = "/dev/fdset/\(fd)"
      }
      var drive = QEMUOption.join(
        "if=none", ["id": "disk\(i)", "file": file, "format": disk.format.rawValue])
      if disk.readOnly { drive += ",readonly=on" }
      if disk.volatile { drive += ",snapshot=on" }
      var device = "virtio-blk-\(bus),drive=disk\(i)"
      if i == 0 && vm.boot == .firmware { device += ",bootindex=0" }
      a += ["-drive", drive, "-device", device]
    }
    for (i, nic) in vm.nics.enumerated() {
      let mac = try VMMAC.normalize(nic.mac, field: "nic.\(i).hwaddr")
      a += ["-netdev", "tap,id=net\(i),fd=\(nic.tapFD)"]
      // romfile= (empty): no PXE option ROM, so SeaBIOS never net-boots and the jail needs no ROM file.
      let device = "virtio-net-\(bus),netdev=net\(i),mac=\(mac)" + (bus == "pci" ? ",romfile=" : "")
      a += ["-device", device]
    }
    if !vm.agentSockets.isEmpty {
      // One virtio-serial device; its ports are numbered from 1 (0 is kept for a virtconsole), in socket order.
      a += ["-device", "virtio-serial-\(bus),id=agent"]
      for (i, path) in vm.agentSockets.enumerated() {
        let k = i + 1
        a += ["-chardev", QEMUOption.join("socket", ["id": "agent\(k)", "path": path, "server": "on", "wait": "off"])]
        a += ["-device", "virtserialport,bus=agent.0,nr=\(k),chardev=agent\(k),name=\(AgentProtocol.portName(k))"]
      }
    }
    for (i, serial) in vm.serials.enumerated() {
      let id = "serial\(i)"
      switch serial {
      case .none:
        a += ["-serial", "null"]
        continue
      case .consoleSocket(let path):
        a += ["-chardev", QEMUOption.join("socket", ["id": id, "path": path])]
      case .consoleFD(let fd):
        a += ["-chardev", "socket,id=\(id),fd=\(fd)"]
      case .stdio:
        // signal=off: Ctrl-C on the console reaches the guest instead of ending QEMU.
        a += ["-chardev", "stdio,id=\(id),signal=off"]
      case .hostFD(let fd):
        // The device was opened read-write outside the jail; QEMU opens it through its fd set.
        a += ["-add-fd", "fd=\(fd),set=\(fd)", "-chardev", "serial,id=\(id),path=/dev/fdset/\(fd)"]
      }
      a += ["-serial", "chardev:\(id)"]
    }
    return a
  }

  /// The fds the QEMU process must inherit, in ascending order.
  public static func inheritedFDs(_ vm: VMDescription) -> [Int32] {
    var fds = vm.nics.map(\.tapFD) + vm.disks.compactMap(\.fd) + vm.disks.compactMap(\.readOnlyFD)
    for serial in vm.serials {
      switch serial {
      case .consoleFD(let fd), .hostFD(let fd): fds.append(fd)
      case .none, .consoleSocket, .stdio: break
      }
    }
    return fds.sorted()
  }

  private static func machine(_ vm: VMDescription) -> String {
    var m = "\(vm.machine.rawValue),accel=\(vm.accelerator.rawValue)"
    // Without the CMOS clock the kernel waits about 2 s for one (measured on microvm under TCG).
    if vm.machine == .microvm { m += ",rtc=on" }
    return m
  }

  private static func kernelCmdline(_ vm: VMDescription, _ cmdline: String, tscKHz: Int?) throws(VMError) -> String {
    var words = cmdline.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    if vm.machine == .microvm && vm.accelerator == .tcg && !words.contains(where: { $0.hasPrefix("tsc_early_khz=") }) {
      guard let tscKHz, tscKHz > 0 else {
        throw VMError(
          .invalidArgument,
          "tsc_early_khz: microvm under TCG needs the host's TSC frequency (its boot hangs calibrating against the PIT)"
        )
      }
      words.append("tsc_early_khz=\(tscKHz)")
    }
    let line = words.joined(separator: " ")
    if line.utf8.count > VMLimits.maxCmdlineBytes {
      throw VMError(
        .invalidArgument, "cmdline: \(line.utf8.count) bytes, longer than the kernel's \(VMLimits.maxCmdlineBytes)")
    }
    return line
  }
}
