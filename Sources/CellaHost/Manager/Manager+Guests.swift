import CellaAPI
import CellaErrors
import CellaRuntimeCore
import CellaSys
import Foundation

extension Manager {
  public func listGuests() throws -> [GuestSummary] {
    guestNames().map { name in
      let paths = layout.guest(name)
      // A guest.yaml someone broke by hand is listed in status error (info names the line at fault).
      guard let record = try? loadRecord(name) else {
        return GuestSummary(name: name, kind: .container, status: .error, pid: nil, image: nil)
      }
      let state = (try? GuestState.load(paths)) ?? GuestState()
      let status = liveStatus(state, paths)
      let addresses = nicInfos(record, state, running: status == .running)?.compactMap(\.ipv4)
      return GuestSummary(
        name: name, kind: record.kind, status: status, pid: status == .running ? state.initPID.map(Int.init) : nil,
        image: record.image, addresses: addresses?.isEmpty == false ? addresses : nil)
    }
  }

  public func guestInfo(_ name: String) throws -> GuestInfo {
    let record = try loadRecord(name)
    let paths = layout.guest(name)
    let state = try GuestState.load(paths)
    return info(record, state, paths)
  }

  public func createGuest(_ request: CreateGuestRequest) throws -> GuestInfo {
    try Names.check(request.name, as: "guest")
    let kind = request.kind ?? .container
    if kind == .container && request.image == nil {
      throw HostError(.invalidArgument, "guest \"\(request.name)\": --image: a container needs an image")
    }
    let own = request.config ?? [:]
    for (key, value) in own.sorted(by: { $0.key < $1.key }) {
      do { try ConfigKeys.validate(key: key, value: value, kind: kind) } catch {
        throw HostError("guest \"\(request.name)\"", error)
      }
    }
    let profileNames = request.profiles ?? []
    var seen = Set<String>()
    for p in profileNames where !seen.insert(p).inserted {
      throw HostError(.invalidArgument, "profile \"\(p)\" is named twice")
    }
    let record = GuestRecord(
      name: request.name, kind: kind, image: request.image, profiles: profileNames, config: own,
      command: request.command, created: Timestamp.now())
    let paths = layout.guest(request.name)
    try imageUse.withLock { _ throws(HostError) in
      let image = try request.image.map { name throws(HostError) in try images.record(name) }
      let effective = try effectiveConfig(of: record)
      // Everything a start needs is checked now, so a stored guest always starts.
      try checkStartable(record, image: image, effective: effective, paths: paths)
      if mkdir(paths.dir, 0o700) != 0 {
        if errno == EEXIST { throw HostError(.alreadyExists, "guest \"\(request.name)\" already exists") }
        throw HostError("mkdir", path: paths.dir, errno: errno)
      }
      do throws(HostError) {
        for dir in [paths.upper, paths.work, paths.rootfs, paths.bundle] where mkdir(dir, 0o755) != 0 {
          throw HostError("mkdir", path: dir, errno: errno)
        }
        try GuestState().save(paths)
        // Addresses are recorded now (their problems are the create's), after the directory made the
        // name this guest's: a create that fails releases them.
        // guest.yaml last: a directory without it is a create that never finished.
        try bindAddresses(request.name, effective.nics) { () throws(HostError) in try record.write(to: paths.record) }
      } catch {
        if !effective.nics.isEmpty { _ = try? bindAddresses(request.name, []) }
        try? TreeOps.remove(path: paths.dir)
        throw error
      }
    }
    log.info("guest \(request.name): created \(request.image.map { "from image " + $0 } ?? "(VM without an image)")")
    if request.start == true {
      do { return try startGuest(request.name) } catch {
        // launch = create + start: a guest that cannot start is not left behind either.
        try? deleteGuest(request.name, force: true)
        throw error
      }
    }
    return try guestInfo(request.name)
  }

  public func startGuest(_ name: String) throws -> GuestInfo {
    try start(name, manual: true)
    return try guestInfo(name)
  }

  /// Starts a stopped guest: mounts its root, writes its bundle, spawns its keeper and waits for the
  /// runtime's start. Any failure rolls all of it back.
  func start(_ name: String, manual: Bool) throws(HostError) {
    let record = try loadRecord(name)
    let paths = layout.guest(name)
    let lock = try GuestLock(paths)
    var state = try GuestState.load(paths)
    if KeeperLink.isAlive(paths: paths) {
      throw HostError(.invalidState, "guest \"\(name)\" is already running")
    }
    if state.status != .stopped || state.mounted { finishLocked(name, paths, &state) }
    if !manual && !state.restartPending { return }
    let effective = try effectiveConfig(of: record)
    let vm = record.kind == .vm
    let image = try record.image.map { image throws(HostError) in try images.record(image) }
    let ids = vm ? try vmRange(of: record) : try idRange(of: record, effective, allocate: true)
    // Profiles may have changed the NICs since the last start: their addresses are bound again.
    let nics = Self.plannedRun(try bindAddresses(name, effective.nics))
    let specBytes =
      vm ? [] : try spec(for: record, image: image, effective: effective, paths: paths, range: ids, nics: nics)
    // The host ends are named before the runtime makes them, so whoever finishes the run deletes them.
    state.nics = nics.isEmpty ? nil : nics
    state.status = .starting
    state.mounted = !vm
    state.error = nil
    state.stopRequested = false
    state.killRequested = false
    state.restartPending = false
    state.accelerator = nil
    if manual { state.restartCount = 0 }
    try state.save(paths)
    var passed: [Int32] = []
    defer { passed.forEach { _ = close($0) } }
    do {
      if let image = record.image, !vm { try Overlay.mount(image: images.rootfs(image), paths: paths, idmap: ids) }
      if mkdir(paths.bundle, 0o755) != 0 && errno != EEXIST {
        throw HostError("mkdir", path: paths.bundle, errno: errno)
      }
      unlink(paths.exitFile)
      if lifecycle.store.exists(name) { try? lifecycle.delete(id: name, force: true) }
      if !nics.isEmpty {
        try writeNetworkFiles(record, effective, nics, paths)
        // Anti-spoofing for the host ends is in place before they exist, so the guest's first frame
        // is already checked.
        try updateFirewallPorts("add", nics)
      }
      var bundleSpec = specBytes
      if vm {
        // The taps are the keeper's (then QEMU's) once it starts: closing our copies after that lets a tap
        // go with its VM.
        passed = try openTaps(name, nics).release()
        let taps = zip(passed, nics).map { (fd: $0, mac: $1.mac) }
        let launch = try prepareVM(record, effective, paths, uid: ids?.first ?? 0, taps: taps, nics: nics)
        passed = launch.fds
        bundleSpec = launch.spec
        state.accelerator = launch.accelerator.summary
      }
      do {
        try FileIO.writeAtomically(directory: paths.bundle, name: "config.json", bundleSpec, durable: false)
      } catch { throw HostError("write", path: paths.bundle + "/config.json", errno: error.errno) }
      let started = try keeper.start(
        id: name, paths: paths, bundle: paths.bundle, logMax: Int(effective.consoleBuffer), passing: passed,
        vmEvents: vm ? GuestPaths.vmEventsSocket : nil)
      state.status = .running
      state.keeperPID = started.keeper
      state.keeperStartTime = ProcStat.read(started.keeper)?.startTime
      state.initPID = started.initPID
      state.started = Timestamp.now()
      try state.save(paths)
      if !supervisor.watch(name, pid: started.keeper, startTime: state.keeperStartTime) {
        // Ended already: the supervisor will not report it, so finish it here.
        finishLocked(name, paths, &state)
      }
    } catch let error as HostError {
      if lifecycle.store.exists(name) { try? lifecycle.delete(id: name, force: true) }
      try? Overlay.unmount(paths)
      removeHostInterfaces(name, nics)
      state = GuestState(lastExit: state.lastExit, restartCount: state.restartCount)
      try? state.save(paths)
      if !nics.isEmpty { refreshFirewall("guest \(name): start rolled back") }
      log.warning("guest \(name): start failed: \(error.message)")
      throw error.message.contains("\"\(name)\"") ? error : HostError("guest \"\(name)\"", error)
    } catch {
      throw HostError(.internal, "guest \"\(name)\": start: \(error)")
    }
    _ = consume lock
    log.info("guest \(name): started (init pid \(state.initPID ?? 0))")
  }

  public func stopGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo {
    try stop(name, request, restartAfter: false)
    return try guestInfo(name)
  }

  public func restartGuest(_ name: String, _ request: StopRequest) throws -> GuestInfo {
    let paths = layout.guest(name)
    _ = try loadRecord(name)
    if KeeperLink.isAlive(paths: paths) { try stop(name, request, restartAfter: true) }
    try start(name, manual: true)
    return try guestInfo(name)
  }

  /// Stops a running guest: its stop signal, then SIGKILL after the timeout; returns once it has ended.
  func stop(_ name: String, _ request: StopRequest, restartAfter: Bool) throws(HostError) {
    let record = try loadRecord(name)
    let paths = layout.guest(name)
    let lock = try GuestLock(paths)
    var state = try GuestState.load(paths)
    guard KeeperLink.isAlive(paths: paths) else {
      let wasPending = state.restartPending
      if state.status != .stopped || state.mounted || wasPending {
        state.restartPending = false
        finishLocked(name, paths, &state)
        return
      }
      throw HostError(.invalidState, "guest \"\(name)\" is not running")
    }
    let effective = try effectiveConfig(of: record)
    let image = try? record.image.map { image throws(HostError) in try images.record(image) }
    let signal = request.force == true ? SIGKILL : stopSignal(effective, record.command == nil ? image : nil)
    let timeout = Double(request.timeout ?? effective.stopTimeout)
    if let t = request.timeout, t < 0 { throw HostError(.invalidArgument, "--timeout: \(t) is negative") }
    state.stopRequested = true
    state.status = .stopping
    try state.save(paths)
    if record.kind == .vm && request.force != true {
      // The ACPI power button: the guest's OS shuts down as on a real machine. QEMU ending on SIGTERM is
      // the fallback when QMP does not answer.
      if !vmPowerdown(paths) { try? lifecycle.kill(id: name, signal: SIGTERM, all: false) }
    } else {
      try? lifecycle.kill(id: name, signal: signal, all: signal == SIGKILL)
    }
    if !waitForKeeper(paths, state, seconds: timeout) && record.kind == .vm && vmQuit(paths) {
      log.info("guest \(name): still running \(Int(timeout)) s after the power button: QEMU quit")
      _ = waitForKeeper(paths, state, seconds: 10)
    }
    if KeeperLink.isAlive(paths: paths) {
      log.info("guest \(name): still running \(Int(timeout)) s after signal \(signal): killing it")
      try? lifecycle.kill(id: name, signal: SIGKILL, all: true)
      _ = waitForKeeper(paths, state, seconds: 10)
    }
    finishLocked(name, paths, &state)
    _ = consume lock
    log.info("guest \(name): stopped")
  }

  public func killGuest(_ name: String, _ request: KillRequest) throws -> GuestInfo {
    let record = try loadRecord(name)
    let paths = layout.guest(name)
    var signal = SIGKILL
    if let text = request.signal {
      guard let s = Signals.parse(text) else {
        throw HostError(.invalidArgument, "--signal: \"\(text)\" is not a signal name or number")
      }
      signal = s
    }
    do {
      let lock = try GuestLock(paths)
      var state = try GuestState.load(paths)
      guard KeeperLink.isAlive(paths: paths) else { throw HostError(.invalidState, "guest \"\(name)\" is not running") }
      state.killRequested = true
      try state.save(paths)
      // A VM's QEMU quits at once over QMP (its disk caches flushed); SIGKILL when QMP does not answer.
      if record.kind == .vm && request.signal == nil && vmQuit(paths) {
        _ = consume lock
        return try guestInfo(name)
      }
      do { try lifecycle.kill(id: name, signal: signal, all: false) } catch {
        throw HostError("guest \"\(name)\"", error)
      }
      _ = consume lock
    }
    return try guestInfo(name)
  }

  public func deleteGuest(_ name: String, force: Bool) throws {
    _ = try loadRecord(name)
    let paths = layout.guest(name)
    if KeeperLink.isAlive(paths: paths) {
      guard force else {
        throw HostError(.invalidState, "guest \"\(name)\" is running: stop it first or delete it with --force")
      }
      try stop(name, StopRequest(force: true), restartAfter: false)
    }
    let lock = try GuestLock(paths)
    var state = try GuestState.load(paths)
    if KeeperLink.isAlive(paths: paths) {
      throw HostError(.invalidState, "guest \"\(name)\" was started again while being deleted")
    }
    finishLocked(name, paths, &state)
    try Overlay.unmount(paths)
    guard !Overlay.anyMounted(paths) else {
      throw HostError(.system, "guest \"\(name)\": its root is still mounted at \(paths.rootfs) or \(paths.lower)")
    }
    try? UidAllocator(layout: layout).free(name)
    do { try bindAddresses(name, []) } catch { log.warning("guest \(name): releasing its addresses: \(error.message)") }
    let hadPorts = (try? loadRecord(name))?.ports.isEmpty == false
    // Renamed away first: a guest half-removed by a crash must not look like a guest.
    let doomed = layout.guests + "/.deleting-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    if rename(paths.dir, doomed) != 0 { throw HostError("rename", path: paths.dir, errno: errno) }
    _ = consume lock
    if hadPorts { refreshFirewall("guest \(name) deleted") }
    try TreeOps.remove(path: doomed)
    log.info("guest \(name): deleted")
  }

  /// Ends a run whose keeper is gone: reads how it ended, deletes the runtime's container, unmounts the
  /// root and records the exit. Safe to call again; the caller holds the guest's lock.
  @discardableResult
  func finishLocked(_ name: String, _ paths: GuestPaths, _ state: inout GuestState) -> ExitInfo? {
    var exit: ExitInfo?
    if (state.status != .stopped && state.status != .error) || KeeperLink.readExit(paths: paths) != nil {
      let seen = KeeperLink.readExit(paths: paths)
      var oom = false
      if let rec = try? lifecycle.store.load(name), let cg = rec.cgroupPath {
        oom = hostCgroups.oomKillCount(cg) > 0
      }
      // Only a VM's run records an accelerator: no guest.yaml is read to finish a container's run.
      let vm = state.accelerator != nil
      let reason =
        vm
        ? ExitReasoning.vmReason(
          code: seen?.code, signal: seen?.signal, event: seen?.event, stopRequested: state.stopRequested,
          killRequested: state.killRequested, oomKilled: oom)
        : ExitReasoning.reason(
          code: seen?.code, signal: seen?.signal, stopRequested: state.stopRequested,
          killRequested: state.killRequested, oomKilled: oom)
      if state.status != .starting || seen != nil {
        // QEMU says why it failed on its stderr, which is the console.
        let message = reason == .vmFailed ? ConsoleTail.lastLine(paths.consoleLog) : nil
        exit = ExitInfo(
          code: seen?.code, signal: seen?.signal, reason: reason, time: seen?.time ?? Timestamp.now(), message: message)
      }
    }
    if lifecycle.store.exists(name) {
      do { try lifecycle.delete(id: name, force: true) } catch {
        log.warning("guest \(name): runtime delete: \(error.message)")
      }
    }
    do { try Overlay.unmount(paths) } catch { log.warning("guest \(name): \(error.message)") }
    let nics = state.nics ?? []
    removeHostInterfaces(name, nics)
    state.nics = nil
    unlink(paths.exitFile)
    if let exit { state.lastExit = exit }
    state.status = .stopped
    state.mounted = Overlay.anyMounted(paths)
    state.keeperPID = nil
    state.keeperStartTime = nil
    state.initPID = nil
    state.started = nil
    state.stopRequested = false
    state.killRequested = false
    try? state.save(paths)
    if !nics.isEmpty {
      do throws(HostError) { try updateFirewallPorts("delete", nics) } catch {
        log.warning("firewall (guest \(name) ended): \(error.message)")
      }
    }
    return exit
  }

  /// Waits up to `seconds` for the guest's keeper to end.
  func waitForKeeper(_ paths: GuestPaths, _ state: GuestState, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    if let pid = state.keeperPID, let fd = try? FileDescriptor.pidfd(pid),
      state.keeperStartTime == nil || ProcStat.read(pid)?.startTime == state.keeperStartTime
    {
      var p = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
      while true {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { break }
        let r = poll(&p, 1, Int32(min(left * 1000, 1000)) + 1)
        if r > 0 { break }
      }
    }
    // The keeper holds its lock until it exits; a keeper whose pid we lost is waited for by the lock.
    while KeeperLink.isAlive(paths: paths) {
      if Date() >= deadline { return false }
      usleep(20_000)
    }
    return true
  }

  /// The signal that asks a guest to shut down: `boot.stop.signal`, else its image's (when it runs the
  /// image's own command: busybox init's SIGUSR2 means nothing to a shell given at create), else SIGTERM.
  func stopSignal(_ effective: EffectiveConfig, _ image: ImageRecord?) -> Int32 {
    if let s = effective.stopSignal { return s }
    if let text = image?.process.stopSignal, let s = Signals.parse(text) { return s }
    return SIGTERM
  }

  /// What the API reports as a guest's status: a run whose keeper has gone is `stopping` until the
  /// daemon has finished it (recorded its exit, deleted its container), then `stopped`.
  func liveStatus(_ state: GuestState, _ paths: GuestPaths) -> GuestStatus {
    switch state.status {
    case .running, .starting, .stopping:
      return KeeperLink.isAlive(paths: paths) ? state.status : .stopping
    case .stopped, .error:
      return state.status
    }
  }

  func info(_ record: GuestRecord, _ state: GuestState, _ paths: GuestPaths) -> GuestInfo {
    let status = liveStatus(state, paths)
    let effective = (try? effectiveMap(of: record)) ?? record.config
    var usage: Usage?
    if status == .running, let rec = try? lifecycle.store.load(record.name), let cg = rec.cgroupPath {
      let s = hostCgroups.stats(cg)
      usage = Usage(
        memory: s.memory.usage.usage, cpuSeconds: Double(s.cpu.usage.total) / 1e9, pids: s.pids.current)
    }
    return GuestInfo(
      name: record.name, kind: record.kind, status: status,
      pid: status == .running ? state.initPID.map(Int.init) : nil, image: record.image, profiles: record.profiles,
      config: record.config, effectiveConfig: effective, command: record.command, created: record.created,
      started: status == .running ? state.started : nil, usage: usage, lastExit: state.lastExit,
      restartCount: state.restartCount, error: state.error, nics: nicInfos(record, state, running: status == .running),
      accelerator: status == .running ? state.accelerator : nil)
  }

  func loadRecord(_ name: String) throws(HostError) -> GuestRecord {
    try Names.check(name, as: "guest")
    let paths = layout.guest(name)
    guard FileIO.exists(paths.record) else { throw HostError(.notFound, "guest \"\(name)\" does not exist") }
    return try GuestRecord.read(paths.record)
  }
}
