import CellaAPI
import CellaErrors
import CellaSys
import CellaVM
import Glibc

/// What a VM's start hands the keeper: its jail's spec and the fds QEMU inherits as 3, 4, …
struct VMLaunch {
  var spec: [UInt8]
  /// Owned by the start: closed once the keeper has them (or the start failed).
  var fds: [Int32]
  var accelerator: AccelVerdict
}

// VM guests: QEMU as the one process of a jail cella-runtime makes (VMSpec), its serial console on the
// keeper's pty, its taps and host serial ports opened here and passed in as fds.
extension Manager {
  /// How a VM boots, from its keys: its image through cella's kernel and initramfs, `vm.kernel`, or its
  /// first disk through the firmware. Refuses combinations that cannot work, naming the key.
  func vmBootProblem(_ record: GuestRecord, _ effective: EffectiveConfig) -> String? {
    guard let vm = effective.vm else { return nil }
    if vm.kernel == nil {
      if vm.initrd != nil { return "vm.initrd: needs vm.kernel (--kernel)" }
      if vm.cmdline != nil { return "vm.cmdline: needs vm.kernel (--kernel)" }
    }
    if record.image != nil && vm.kernel != nil {
      return "vm.kernel: a VM boots from its image or from a kernel, not both (--image or --kernel)"
    }
    if record.image == nil && vm.kernel == nil && effective.disks.isEmpty {
      return "a VM needs something to boot: --image IMAGE, --kernel PATH or --disk FILE"
    }
    if record.image == nil && record.command != nil {
      return "a command (after --) needs a VM from an image, whose agent runs it"
    }
    if record.image == nil, let key = effective.values.keys.sorted().first(where: { $0.hasPrefix("environment.") }) {
      return "\(key): only a VM from an image has an init cella starts"
    }
    if vm.machine == .microvm && record.image == nil && vm.kernel == nil {
      return "vm.machine: microvm has no firmware to boot a disk; use q35 or pc"
    }
    for (n, serial) in vm.serials.sorted(by: { $0.key < $1.key }) where n > 0 && serial == .console {
      return "serial.\(n): only serial.0 can be the console"
    }
    return nil
  }

  /// `vm.machine`, else microvm for a kernel boot (cella's image or `vm.kernel`), q35 for a disk's firmware.
  static func vmMachine(_ record: GuestRecord, _ effective: EffectiveConfig) -> VMMachine {
    if let machine = effective.vm?.machine { return machine }
    return record.image == nil && effective.vm?.kernel == nil ? .q35 : .microvm
  }

  /// The host's RAM in bytes (MemTotal), nil when /proc/meminfo says nothing.
  static func hostMemory() -> UInt64? {
    guard let text = try? FileIO.readString("/proc/meminfo") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
      let words = line.split(separator: " ")
      if words.count >= 2, let kib = UInt64(words[1]) { return kib * 1024 }
    }
    return nil
  }

  /// Checks a VM's keys as a create or config change does (a start checks again and opens what they name).
  /// Returns what `qemu-img` said of each disk, by disk name (a start uses it rather than asking again).
  @discardableResult
  func checkVM(_ record: GuestRecord, _ effective: EffectiveConfig) throws(HostError) -> [String: DiskInfo] {
    let guest = "guest \"\(record.name)\""
    if let problem = vmBootProblem(record, effective) { throw HostError(.invalidArgument, "\(guest): \(problem)") }
    for (key, path) in [("vm.kernel", effective.vm?.kernel), ("vm.initrd", effective.vm?.initrd)] {
      if let path, let problem = ConfigValues.hostFileProblem(path) {
        throw HostError(.invalidArgument, "\(guest): \(key): \(problem)")
      }
    }
    let memory = effective.memoryLimit ?? VMConfig.defaultMemory
    if let host = Self.hostMemory(), memory > host {
      throw HostError(
        .invalidArgument,
        "\(guest): limits.memory: \(ByteSize.format(memory)) is more than the host's \(ByteSize.format(host))")
    }
    if memory < 16 << 20 {
      throw HostError(.invalidArgument, "\(guest): limits.memory: a VM needs at least 16MiB")
    }
    if effective.vm?.accel == .kvm, case .tcg(let why) = try accelerator() {
      throw HostError(.unsupported, "\(guest): vm.accel=kvm: KVM is not usable on this host: \(why)")
    }
    var probed: [String: DiskInfo] = [:]
    for (i, disk) in Self.vmDiskOrder(effective.disks).enumerated() {
      let info = try probeDisk(record, disk)
      probed[disk.name] = info
      if i == 0 && record.image == nil && effective.vm?.kernel == nil {
        do { try DiskProbe.checkBootable(disk.source, format: info.format) } catch {
          throw HostError(error.kind, "\(guest): disk.\(disk.name).source: \(error.message)")
        }
      }
    }
    let machine = Self.vmMachine(record, effective)
    let ports = VMLimits.maxSerialPorts(machine)
    if let n = effective.vm?.serials.keys.filter({ $0 >= ports }).min() {
      throw HostError(
        .invalidArgument,
        "\(guest): serial.\(n): \(machine.rawValue) has \(ports) serial port(s); use vm.machine=q35 or pc for more")
    }
    for (n, serial) in effective.vm?.serials ?? [:] {
      guard case .host(let path) = serial else { continue }
      var st = stat()
      guard stat(path, &st) == 0 else {
        throw HostError(.invalidArgument, "\(guest): serial.\(n): \(path): \(ErrorText.errno(errno))")
      }
      guard (st.st_mode & S_IFMT) == S_IFCHR else {
        throw HostError(.invalidArgument, "\(guest): serial.\(n): \(path) is not a character device")
      }
    }
    return probed
  }

  /// What the agent in a VM from an image starts and sets up (cella-agent reads it from the initramfs): the
  /// image's process as a container of it would run it, its NICs' addresses, its names.
  func bootConfig(_ record: GuestRecord, _ effective: EffectiveConfig, image: String, nics: [StartedNIC])
    throws(HostError) -> GuestBootConfig
  {
    let guest = "guest \(ConfigValues.quote(record.name))"
    let process = try images.record(image).process
    let command = record.command ?? ((process.entrypoint ?? []) + (process.cmd ?? []))
    guard let first = command.first, !first.isEmpty else {
      throw HostError(.invalidArgument, "\(guest): no command: the image has no Entrypoint or Cmd and none was given")
    }
    let user = try ImageUser.resolve(process.user, root: images.rootfs(image), guest: record.name)
    let hostname = effective.hostname ?? record.name
    let hosts = nics.first.map {
      GuestNetFiles.hosts(name: record.name, hostname: effective.hostname, address: $0.ipv4)
    }
    return GuestBootConfig(
      hostname: hostname, command: command,
      env: try GuestSpec.environment(process.env ?? [], effective.environment, guest: guest),
      cwd: ConfigValues.cleanAbsolutePath("/" + (process.workingDir ?? "/")) ?? "/", uid: user.uid, gid: user.gid,
      nics: nics.enumerated().map { i, n in
        GuestBootConfig.NIC(mac: n.mac, address: "\(n.ipv4)/\(n.prefixLength)", gateway: i == 0 ? n.gateway : nil)
      }, dns: nics.first.map { [$0.gateway] } ?? [], hosts: hosts)
  }

  /// The host ids of a VM guest: QEMU runs as the first, a uid no other guest or host user has.
  func vmRange(of record: GuestRecord) throws(HostError) -> IDRange? {
    let uids = UidAllocator(layout: layout)
    if let known = try uids.range(of: record.name) { return known }
    return try uids.allocate(for: record.name, preferring: nil)
  }

  /// The accelerator `vm.accel=auto` gets on this host: the probe's verdict, kept per host boot.
  func accelerator() throws(HostError) -> AccelVerdict {
    if mkdir(layout.vmCache, 0o700) != 0 && errno != EEXIST {
      throw HostError("mkdir", path: layout.vmCache, errno: errno)
    }
    do { return try AccelProbe().verdict(cachePath: layout.accelVerdict) } catch {
      throw HostError(error.kind, "accelerator probe: \(error.message)")
    }
  }

  /// VM disks in attach order: numeric names by number (disk.2 before disk.10), then the others by name.
  static func vmDiskOrder(_ disks: [GuestDisk]) -> [GuestDisk] {
    disks.sorted { a, b in
      switch (Int(a.name), Int(b.name)) {
      case (let x?, let y?): return x < y
      case (.some, nil): return true
      case (nil, .some): return false
      case (nil, nil): return a.name < b.name
      }
    }
  }

  /// Everything a VM's start needs before its keeper runs: the jail's root and runtime directory, the
  /// opened disks and serial devices, QEMU's argv, the jail's spec. `taps` are already open (their fds
  /// come first). Whatever it opened is closed when it throws.
  func prepareVM(
    _ record: GuestRecord, _ effective: EffectiveConfig, _ paths: GuestPaths, uid: UInt32,
    taps: [(fd: Int32, mac: String)], nics: [StartedNIC]
  ) throws(HostError) -> VMLaunch {
    let guest = "guest \"\(record.name)\""
    guard let vm = effective.vm else { throw HostError(.internal, "\(guest): not a VM") }
    let probed = try checkVM(record, effective)
    let verdict: AccelVerdict
    switch vm.accel {
    case .tcg: verdict = .tcg(reason: "vm.accel=tcg")
    case .kvm, .auto: verdict = try accelerator()
    }
    let accelerator: VMAccelerator = verdict == .kvm ? .kvm : .tcg
    var opened: [Int32] = []
    var ok = false
    defer { if !ok { opened.forEach { _ = close($0) } } }
    // The fds QEMU gets, in the order they are numbered from 3.
    var passed: [Int32] = taps.map(\.fd)
    func number(_ fd: Int32) -> Int32 {
      passed.append(fd)
      return Int32(2 + passed.count)
    }
    var vmNICs: [VMNIC] = []
    for (i, tap) in taps.enumerated() { vmNICs.append(VMNIC(tapFD: 3 + Int32(i), mac: tap.mac)) }

    let machine = Self.vmMachine(record, effective)
    var files: [(source: String, destination: String)] = []
    var sameFiles: [String] = []
    var disks: [VMDisk] = []
    var agentSockets: [String] = []
    let boot: VMBoot
    if let image = record.image {
      // cella's own boot: the host's kernel, an initramfs with the agent, the image's disk under an overlay.
      let artifacts = VMArtifacts(layout: layout)
      let kernel = try artifacts.vmlinux()
      let base = try artifacts.initramfs(agent: options.agentPath, kernel: kernel)
      let rootDisk = try artifacts.rootDisk(image: image)
      let overlay = try artifacts.overlay(guest: paths, image: image)
      let config = try bootConfig(record, effective, image: image, nics: nics)
      let initrd = paths.vm + "/initrd.cpio"
      do { try VMInitramfs.guest(base: base, config: config.encoded(), output: initrd, mode: 0o600) } catch {
        throw HostError(error.kind, "\(guest): \(error.message)")
      }
      for file in [overlay, initrd] where chown(file, uid, uid) != 0 {
        throw HostError("chown", path: file, errno: errno)
      }
      files.append((kernel.vmlinux, "/boot/kernel"))
      sameFiles.append(rootDisk)
      disks.append(VMDisk(path: VMSpec.runDirectory + "/root.qcow2", format: .qcow2))
      agentSockets = (1...config.agentPorts).map { VMSpec.runDirectory + "/agent-\($0).sock" }
      // quiet: the console shows the guest's own output, not the kernel's boot log; panic=-1: a panic
      // the pvpanic device missed still ends the run instead of hanging it.
      boot = .kernel(
        path: "/boot/kernel", initrd: VMSpec.runDirectory + "/initrd.cpio",
        cmdline: "console=ttyS0 quiet panic=-1")
    } else if let kernel = vm.kernel {
      files.append((kernel, "/boot/kernel"))
      if let initrd = vm.initrd { files.append((initrd, "/boot/initrd")) }
      let cmdline = "console=ttyS0 " + (vm.cmdline ?? "")
      boot = .kernel(path: "/boot/kernel", initrd: vm.initrd == nil ? nil : "/boot/initrd", cmdline: cmdline)
    } else {
      boot = .firmware
    }
    for disk in Self.vmDiskOrder(effective.disks) {
      let field = "\(guest): disk.\(disk.name).source"
      guard let info = probed[disk.name] else { throw HostError(.internal, "\(field): not probed") }
      let format = info.format
      // QEMU opens backing files by the names the images hold: they are bound read-only at those paths.
      sameFiles += info.backingChain.map(\.path)
      let writable = !disk.readonly && !disk.volatile
      let fd = open(disk.source, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY)
      guard fd >= 0 else { throw HostError(.from(errno: errno), "\(field): \(disk.source): \(ErrorText.errno(errno))") }
      opened.append(fd)
      var readOnlyFD: Int32?
      if writable {
        let ro = open(disk.source, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard ro >= 0 else {
          throw HostError(.from(errno: errno), "\(field): \(disk.source): \(ErrorText.errno(errno))")
        }
        opened.append(ro)
        readOnlyFD = ro
      }
      let writeNumber = number(fd)
      var readNumber: Int32?
      if let readOnlyFD { readNumber = number(readOnlyFD) }
      disks.append(
        VMDisk(
          path: disk.source, format: format, readOnly: disk.readonly, volatile: disk.volatile, fd: writeNumber,
          readOnlyFD: readNumber))
    }
    var serials: [VMSerial] = []
    let lastSerial = vm.serials.keys.max() ?? 0
    for n in 0...lastSerial {
      switch vm.serials[n] ?? ConfigValues.Serial.none {
      case .none: serials.append(.none)
      case .console: serials.append(.stdio)
      case .host(let path):
        let fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
          throw HostError(.from(errno: errno), "\(guest): serial.\(n): \(path): \(ErrorText.errno(errno))")
        }
        opened.append(fd)
        guard isatty(fd) == 1 else {
          throw HostError(.invalidArgument, "\(guest): serial.\(n): \(path) is not a terminal")
        }
        // Two VMs on one serial line would each read half of its bytes.
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
          throw HostError(.invalidState, "\(guest): serial.\(n): \(path) is in use by another guest")
        }
        serials.append(.hostFD(number(fd)))
      }
    }
    let memory = effective.memoryLimit ?? VMConfig.defaultMemory
    let cores = effective.cpuQuota.map { Int(($0 + Int64(effective.cpuPeriod) - 1) / Int64(effective.cpuPeriod)) } ?? 1
    let description = VMDescription(
      machine: machine, accelerator: accelerator, cpu: vm.cpu, vcpus: max(1, cores), memoryMiB: Int(memory >> 20),
      boot: boot, disks: disks, nics: vmNICs, serials: serials, clock: vm.clock,
      qmpSocket: VMSpec.runDirectory + "/qmp.sock", eventsSocket: VMSpec.runDirectory + "/events.sock",
      agentSockets: agentSockets)
    let argv: [String]
    do {
      let tsc = machine == .microvm && accelerator == .tcg ? try HostTSC.kHz() : nil
      argv = try QEMUCommand.argv(description, tscKHz: tsc, executable: "/usr/bin/" + QEMUCommand.executable)
    } catch { throw HostError(error.kind, "\(guest): \(error.message)") }
    if vm.clock == .localtime, FileIO.exists("/etc/localtime") { sameFiles.append("/etc/localtime") }
    try makeJail(paths, uid: uid, files: files.map(\.destination) + sameFiles)
    let spec = try VMSpec.json(
      VMSpec.Input(
        name: record.name, argv: argv, root: paths.jail, vmDirectory: paths.vm, sameFiles: sameFiles, files: files,
        uid: uid, memory: memory, config: effective, cgroupsPath: options.cgroupParent + "/" + record.name,
        kvm: accelerator == .kvm))
    ok = true
    return VMLaunch(spec: spec, fds: passed, accelerator: verdict)
  }

  /// A VM disk as `qemu-img` sees it: raw or qcow2 (anything else refused naming what it is), its backing
  /// files only inside the guest's or the image store's directories (checked before they are opened).
  func probeDisk(_ record: GuestRecord, _ disk: GuestDisk) throws(HostError) -> DiskInfo {
    let allowed = [layout.guest(record.name).dir, layout.images]
    do { return try DiskProbe.inspect(disk.source, backingWithin: allowed) } catch {
      throw HostError(error.kind, "guest \"\(record.name)\": disk.\(disk.name).source: \(error.message)")
    }
  }

  /// The jail's root: an empty directory with the /usr links and a mount point for each bound file;
  /// the runtime directory, owned by QEMU's uid.
  func makeJail(_ paths: GuestPaths, uid: UInt32, files: [String]) throws(HostError) {
    if FileIO.exists(paths.jail) { try TreeOps.remove(path: paths.jail) }
    try Self.makeDirectory(paths.jail, mode: 0o755)
    for (name, target) in VMSpec.usrLinks where symlink(target, paths.jail + "/" + name) != 0 {
      throw HostError("symlink", path: paths.jail + "/" + name, errno: errno)
    }
    for dir in ["usr", "proc", "dev", "sys", "tmp", "run", "run/cella"] {
      try Self.makeDirectory(paths.jail + "/" + dir, mode: 0o755)
    }
    for file in files {
      var dir = ""
      for part in file.split(separator: "/").dropLast() {
        dir += "/" + part
        try Self.makeDirectory(paths.jail + dir, mode: 0o755)
      }
      let fd = open(paths.jail + file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
      guard fd >= 0 else { throw HostError("create", path: paths.jail + file, errno: errno) }
      close(fd)
    }
    try Self.makeDirectory(paths.vm, mode: 0o700)
    if chown(paths.vm, uid, uid) != 0 { throw HostError("chown", path: paths.vm, errno: errno) }
  }

  static func makeDirectory(_ path: String, mode: mode_t) throws(HostError) {
    if mkdir(path, mode) != 0 && errno != EEXIST { throw HostError("mkdir", path: path, errno: errno) }
  }

  /// Asks a running VM to power off (ACPI power button) over QMP; false when QMP does not answer.
  func vmPowerdown(_ paths: GuestPaths) -> Bool {
    guard let qmp = try? QMPClient.connect(path: paths.qmpSocket, timeout: 5) else { return false }
    return (try? qmp.systemPowerdown(timeout: 5)) != nil
  }

  /// Ends a running VM's QEMU at once over QMP (`quit`); false when QMP does not answer.
  func vmQuit(_ paths: GuestPaths) -> Bool {
    guard let qmp = try? QMPClient.connect(path: paths.qmpSocket, timeout: 5) else { return false }
    return (try? qmp.quit(timeout: 5)) != nil
  }
}
