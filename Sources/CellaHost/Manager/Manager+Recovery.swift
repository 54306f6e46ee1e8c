import CellaAPI
import CellaRuntimeCore
import CellaSys
import Foundation

extension Manager {
  /// Brings one guest in line with what is really there, after a daemon (re)start.
  func recover(_ name: String) {
    let paths = layout.guest(name)
    guard let lock = try? GuestLock(paths), var state = try? GuestState.load(paths) else { return }
    if KeeperLink.isAlive(paths: paths) {
      if state.status == .stopping {
        // A stop was under way when the last daemon died: finish it.
        try? lifecycle.kill(id: name, signal: SIGKILL, all: true)
      }
      if let pid = state.keeperPID, supervisor.watch(name, pid: pid, startTime: state.keeperStartTime) {
        if state.status == .starting {
          state.status = .running
          try? state.save(paths)
        }
        log.info("guest \(name): re-adopted (keeper \(pid))")
        return
      }
      // A keeper whose pid was never recorded (the daemon died between spawn and save): adopt it once
      // its guest runs, or finish it when it gives up.
      _ = consume lock
      let manager = self
      Thread.detachNewThread { manager.adoptUnrecordedKeeper(name) }
      return
    }
    if state.status != .stopped || state.mounted || KeeperLink.readExit(paths: paths) != nil {
      let before = state.status
      let exit = finishLocked(name, paths, &state)
      log.info(
        "guest \(name): ended while no daemon watched (\(exit?.reason.rawValue ?? "rolled back from \(before.rawValue)"))"
      )
      if let exit { scheduleRestartIfNeeded(name, paths, &state, exit) }
    } else if state.restartPending {
      // A restart the last daemon had scheduled and not run.
      scheduleRestart(name, state.restartCount)
    }
    _ = consume lock
  }

  /// Waits until a keeper the last daemon spawned but never recorded has its guest running (its pid
  /// from the keeper socket's peer credentials, init's from the runtime), then watches it; a keeper
  /// that ends first is finished like any other.
  func adoptUnrecordedKeeper(_ name: String) {
    let paths = layout.guest(name)
    let deadline = Date().addingTimeInterval(Double(keeper.resultTimeout) + 5)
    while KeeperLink.isAlive(paths: paths) && Date() < deadline {
      if let running = try? lifecycle.state(id: name), running.status == "running",
        let pid = KeeperLink.peerPID(paths: paths), let lock = try? GuestLock(paths),
        var state = try? GuestState.load(paths)
      {
        state.keeperPID = pid
        state.keeperStartTime = ProcStat.read(pid)?.startTime
        state.initPID = running.pid
        state.status = .running
        state.started = state.started ?? Timestamp.now()
        try? state.save(paths)
        if supervisor.watch(name, pid: pid, startTime: state.keeperStartTime) {
          log.info("guest \(name): adopted a keeper the last daemon left unrecorded (keeper \(pid))")
          _ = consume lock
          return
        }
        _ = consume lock
        break
      }
      usleep(50_000)
    }
    if KeeperLink.isAlive(paths: paths), let pid = KeeperLink.peerPID(paths: paths) {
      // Still not running after the keeper's own deadline: end it, then finish as a failed start.
      kill(pid, SIGKILL)
      while KeeperLink.isAlive(paths: paths) { usleep(20_000) }
    }
    keeperEnded(name)
  }

  /// A keeper ended: finish the guest's run and apply `boot.restart`.
  func keeperEnded(_ name: String) {
    let paths = layout.guest(name)
    guard FileIO.exists(paths.record), let lock = try? GuestLock(paths), var state = try? GuestState.load(paths)
    else { return }
    guard !KeeperLink.isAlive(paths: paths), state.status != .stopped else { return }
    // A run that lasted a while was healthy: the back-off starts again from its first delay.
    if let started = state.started, let since = Timestamp.seconds(since: started), since >= Self.healthyRun {
      state.restartCount = 0
    }
    let exit = finishLocked(name, paths, &state)
    if let exit {
      log.info(
        "guest \(name): ended (\(exit.reason.rawValue)\(exit.code.map { " code \($0)" } ?? "")\(exit.signal.map { " signal \($0)" } ?? ""))"
      )
      scheduleRestartIfNeeded(name, paths, &state, exit)
    }
    _ = consume lock
  }

  /// Schedules the next restart of `boot.restart`, with back-off; the caller holds the guest's lock.
  func scheduleRestartIfNeeded(_ name: String, _ paths: GuestPaths, _ state: inout GuestState, _ exit: ExitInfo) {
    guard let record = try? loadRecord(name), let effective = try? effectiveConfig(of: record) else { return }
    guard ExitReasoning.shouldRestart(policy: effective.restartPolicy, exit: exit, restarts: state.restartCount)
    else { return }
    state.restartCount += 1
    state.restartPending = true
    try? state.save(paths)
    scheduleRestart(name, state.restartCount)
  }

  /// Runs restart number `count` of `boot.restart` after its back-off.
  func scheduleRestart(_ name: String, _ count: Int) {
    let delay = ExitReasoning.delay(restarts: count - 1, base: options.restartDelay, max: options.maxRestartDelay)
    log.info("guest \(name): restart \(count) in \(delay) s (boot.restart)")
    let manager = self
    DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
      do throws(HostError) { try manager.start(name, manual: false) } catch {
        manager.markError(name, "restart \(count) failed: \(error.message)")
      }
    }
  }

  /// Puts a guest in status `error` with why (an autostart or a restart the daemon ran failed).
  func markError(_ name: String, _ why: String) {
    log.warning("guest \(name): \(why)")
    let paths = layout.guest(name)
    guard FileIO.exists(paths.record), let lock = try? GuestLock(paths), var state = try? GuestState.load(paths),
      !KeeperLink.isAlive(paths: paths)
    else { return }
    state.status = .error
    state.error = why
    state.restartPending = false
    try? state.save(paths)
    _ = consume lock
  }

  /// Seconds a run must last for `boot.restart`'s back-off to start over.
  static let healthyRun = 60.0

  /// Starts `boot.autostart` guests, highest `boot.autostart.priority` first, each followed by its
  /// `boot.autostart.delay`. A guest stopped by hand stays stopped.
  func autostart() {
    var candidates: [(name: String, priority: Int, delay: Double)] = []
    for name in guestNames() {
      guard let record = try? loadRecord(name), let effective = try? effectiveConfig(of: record),
        effective.autostart
      else { continue }
      let paths = layout.guest(name)
      let state = (try? GuestState.load(paths)) ?? GuestState()
      if KeeperLink.isAlive(paths: paths) || state.lastExit?.reason == .stopped { continue }
      candidates.append((name, effective.priority, Double(effective.delay)))
    }
    candidates.sort { $0.priority != $1.priority ? $0.priority > $1.priority : $0.name < $1.name }
    for c in candidates {
      do {
        try start(c.name, manual: true)
        log.info("guest \(c.name): autostarted (priority \(c.priority))")
      } catch {
        markError(c.name, "autostart failed: \(error.message)")
      }
      if c.delay > 0 { Thread.sleep(forTimeInterval: c.delay) }
    }
  }

  /// Runtime containers of this store that no guest owns (a guest directory removed by hand, a crash
  /// between a delete's steps) are deleted, and half-made or half-deleted guest directories removed.
  func removeOrphanRuntimeContainers(known: Set<String>) {
    for id in lifecycle.store.list() where !known.contains(id) {
      try? lifecycle.delete(id: id, force: true)
      log.info("runtime container \(id): deleted (no guest owns it)")
    }
    for entry in (try? FileIO.listDirectory(layout.guests)) ?? [] {
      let paths = GuestPaths(dir: layout.guests + "/" + entry)
      let halfMade = !entry.hasPrefix(".") && !FileIO.exists(paths.record)
      guard halfMade || entry.hasPrefix(".deleting-") else { continue }
      try? Overlay.unmount(paths)
      if Overlay.anyMounted(paths) { continue }
      do {
        try TreeOps.remove(path: paths.dir)
        log.info("guest directory \(entry): removed (a create or delete that never finished)")
      } catch {
        log.warning("guest directory \(entry): \(error.message)")
      }
    }
  }
}
