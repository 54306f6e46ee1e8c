import CellaAPI

/// Where everything of one state directory lives: the one place the store's paths are spelled.
public struct StoreLayout: Sendable, Equatable {
  /// The state directory (`/var/lib/cella`, `--state-dir`, `CELLA_STATE_DIR`).
  public let root: String

  public init(root: String) {
    var r = root
    while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
    self.root = r
  }

  public var images: String { root + "/images" }
  public var imageCache: String { images + "/.cache" }
  public var profiles: String { root + "/profiles" }
  public var guests: String { root + "/guests" }
  public var networks: String { root + "/networks" }
  /// What VM guests share that is not an image's: extracted kernels, initramfs bases (VMArtifacts), the
  /// accelerator probe's verdict.
  public var vmCache: String { root + "/vm" }
  /// cella-runtime's `--root` for this store's guests.
  public var runtimeRoot: String { root + "/run" }
  public var daemonLog: String { root + "/daemon.log" }
  /// The host id ranges given to `security.userns` guests, and the lock around handing them out.
  public var uidMap: String { root + "/uidmap.yaml" }
  public var uidMapLock: String { root + "/uidmap.lock" }
  /// Held while a published port is added, so two guests never take one host port.
  public var portsLock: String { root + "/ports.lock" }
  /// Present while net.ipv4.ip_forward is on because cella turned it on (it is turned off with the last network).
  public var forwardingMark: String { root + "/ip_forward.cella" }
  /// The accelerator probe's verdict for this host boot (`AccelProbe`).
  public var accelVerdict: String { vmCache + "/accel" }

  public func image(_ name: String) -> String { images + "/" + name }
  public func imageRootfs(_ name: String) -> String { image(name) + "/rootfs" }
  public func imageRecord(_ name: String) -> String { image(name) + "/image.yaml" }
  /// An image's rootfs as an ext4 disk: the read-only backing file of its VM guests' overlays.
  public func vmDisk(_ name: String) -> String { image(name) + "/vm-root.ext4" }
  public func profile(_ name: String) -> String { profiles + "/" + name + ".yaml" }

  /// One network's directory and the files in it.
  public func network(_ name: String) -> NetworkPaths { NetworkPaths(dir: networks + "/" + name) }

  /// One guest's directory and the files in it.
  public func guest(_ name: String) -> GuestPaths { GuestPaths(dir: guests + "/" + name) }
}

/// The files of one guest's directory.
public struct GuestPaths: Sendable, Equatable {
  public let dir: String
  public var record: String { dir + "/guest.yaml" }
  public var state: String { dir + "/state.json" }
  public var lock: String { dir + "/lock" }
  public var upper: String { dir + "/upper" }
  public var work: String { dir + "/work" }
  /// A `security.userns` guest's lower layer: its image idmapped onto the guest's host ids.
  public var lower: String { dir + "/lower" }
  public var rootfs: String { dir + "/rootfs" }
  /// A VM guest's own files (QMP and agent sockets, its initramfs, its root overlay): the jail's /run/cella.
  public var vm: String { dir + "/vm" }
  /// A VM guest's qcow2 overlay on its image's `vmDisk`.
  public var vmRootOverlay: String { vm + "/root.qcow2" }
  public var bundle: String { dir + "/bundle" }
  public var consoleLog: String { dir + "/" + KeeperFiles.consoleLog }
  public var consoleLogOld: String { dir + "/" + KeeperFiles.consoleLogOld }
  /// Relative names inside `dir`: the keeper runs with `dir` as its cwd, so a long state dir never
  /// overflows a socket path.
  public static let keeperSocket = KeeperFiles.socket
  public static let keeperLock = KeeperFiles.lock
  public static let consoleSocket = KeeperFiles.consoleSocket
  public var keeperSocket: String { dir + "/" + Self.keeperSocket }
  public var keeperLock: String { dir + "/" + Self.keeperLock }
  public var keeperLog: String { dir + "/keeper.log" }
  public var exitFile: String { dir + "/" + KeeperFiles.exit }
  public var runtimeLog: String { dir + "/" + KeeperFiles.runtimeLog }
  /// A guest with NICs: its /etc/resolv.conf and /etc/hosts (bound read-only).
  public var resolvConf: String { dir + "/resolv.conf" }
  public var hosts: String { dir + "/hosts" }
  /// A VM guest's jail root: mount points and the /usr links, nothing else.
  public var jail: String { dir + "/jail" }
  public var qmpSocket: String { vm + "/qmp.sock" }
  /// The keeper's QMP event socket QEMU connects to, relative to `dir` (the keeper's cwd).
  public static let vmEventsSocket = "vm/events.sock"
}

/// The files of one network's directory.
public struct NetworkPaths: Sendable, Equatable {
  public let dir: String
  public var record: String { dir + "/network.yaml" }
  /// The IPAM files (`IPAMStore`'s directory).
  public var ipam: String { dir }
  public var dnsmasqConfig: String { dir + "/dnsmasq.conf" }
  /// Static DHCP leases by MAC (dnsmasq `--dhcp-hostsfile`, re-read on SIGHUP).
  public var dnsmasqHosts: String { dir + "/dhcp-hosts" }
  /// Guest names (dnsmasq `--addn-hosts`, re-read on SIGHUP).
  public var dnsmasqNames: String { dir + "/names" }
  public var dnsmasqLeases: String { dir + "/dnsmasq.leases" }
  public var dnsmasqPID: String { dir + "/dnsmasq.pid" }
  public var dnsmasqLog: String { dir + "/dnsmasq.log" }
}
