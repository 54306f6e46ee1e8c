import CellaAPI
import CellaCgroups
import CellaErrors
import CellaRuntimeCore
import CellaSys
import Foundation
import Synchronization

/// The VPS manager: guests, images and profiles of one store, supervised. Every API route is one call
/// of it (`CellaService`); calls block, so the daemon runs them off its event loops.
public final class Manager: CellaService {
  let options: ManagerOptions
  let layout: StoreLayout
  let images: ImageStore
  let profiles: ProfileStore
  let keeper: KeeperLink
  let lifecycle: Lifecycle
  let supervisor: Supervisor
  /// Watches every network's dnsmasq (they outlive the daemon like keepers) and restarts one that ends.
  let dnsmasqWatch = Supervisor()
  /// Held while networks are made, removed or brought in line, so subnets and bridges are checked and
  /// taken as one step.
  let networkLock = Mutex<Void>(())
  /// Held while cella's nft tables are changed; true once this daemon replaced them itself (so they are
  /// this store's and hold its sets: a run's entries may then be added and deleted on their own).
  let firewall = Mutex<Bool>(false)
  /// Held while a guest's NICs are checked and bound and its guest.yaml written, so two guests never
  /// both take one MAC.
  let nicLock = Mutex<Void>(())
  /// Firewall entries already logged as left out (`skipFirewallEntry`).
  let firewallSkips = Mutex<Set<String>>([])
  let log: DaemonLog
  /// Exec sessions prepared and not attached yet.
  let execSessions = Mutex<[String: PendingExec]>([:])
  /// Held while a guest takes an image or an image is deleted, so a guest never loses its image.
  let imageUse = Mutex<Void>(())
  /// The store's daemon lock, held (open) for the manager's life.
  let daemonLock: Int32

  /// Opens (and if needed makes) the store, then finishes or rolls back whatever a previous daemon left
  /// midway and re-adopts the guests that kept running. Autostart runs afterwards (`startSupervision`).
  public init(options: ManagerOptions, log: DaemonLog = DaemonLog()) throws(HostError) {
    self.options = options
    self.layout = StoreLayout(root: options.stateDir)
    self.log = log
    // Search only for others on the way to guests/: a userns guest's init reaches its root as its own
    // host ids (each guest's directory lets in only its guest's).
    for (dir, mode) in [
      (layout.root, 0o711), (layout.images, 0o700), (layout.profiles, 0o700), (layout.guests, 0o711),
      (layout.runtimeRoot, 0o700),
    ] as [(String, mode_t)] where mkdir(dir, mode) != 0 && errno != EEXIST {
      throw HostError("mkdir", path: dir, errno: errno)
    }
    // One daemon per store: two would each re-adopt, restart and finish the same guests.
    let lockPath = layout.root + "/daemon.lock"
    let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard lockFD >= 0 else { throw HostError("open", path: lockPath, errno: errno) }
    guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
      close(lockFD)
      throw HostError(.invalidState, "another cella daemon uses the state directory \(layout.root)")
    }
    self.daemonLock = lockFD
    for tool in [options.runtimePath, options.keeperPath, options.nicHookPath] where access(tool, X_OK) != 0 {
      throw HostError(
        .notFound,
        "\(tool): not an executable (build it, or set \(ManagerOptions.runtimeVariable)/\(ManagerOptions.keeperVariable))"
      )
    }
    self.images = ImageStore(layout: layout)
    self.profiles = ProfileStore(layout: layout)
    self.keeper = KeeperLink(
      keeperPath: options.keeperPath, runtimePath: options.runtimePath, runtimeRoot: layout.runtimeRoot)
    self.lifecycle = Lifecycle(store: StateStore(root: layout.runtimeRoot), log: Logger())
    self.supervisor = Supervisor()
    try profiles.ensureDefault()
    try ImageStore.removeLeftovers(layout: layout)
  }

  public func daemonInfo() -> DaemonInfo {
    DaemonInfo(version: CellaVersion.string, stateDir: layout.root, socket: options.socket, pid: Int(getpid()))
  }

  /// Re-adopts running guests, finishes the ones that ended while no daemon ran, rolls back half-made
  /// ones, then starts `boot.autostart` guests by priority in the background.
  public func startSupervision() {
    supervisor.start { [weak self] name in self?.keeperEnded(name) }
    // Networks first: guests that are re-adopted or autostarted need their bridges.
    recoverNetworks()
    let names = guestNames()
    for name in names { recover(name) }
    removeOrphanRuntimeContainers(known: Set(names))
    releaseOrphanLeases()
    let manager = self
    Thread.detachNewThread { manager.autostart() }
  }

  /// Names of the guests in the store (directories with a guest.yaml), sorted.
  func guestNames() -> [String] {
    let entries = (try? FileIO.listDirectory(layout.guests)) ?? []
    return entries.filter { !$0.hasPrefix(".") && FileIO.exists(layout.guest($0).record) }.sorted()
  }
}

/// The version `GET /1.0` reports.
public enum CellaVersion {
  public static let string = "0.9.0"
}

/// An exec request waiting for its client to attach.
struct PendingExec: Sendable {
  var guest: String
  var kind: GuestKind
  var request: ExecRequest
  var created: Double
}
