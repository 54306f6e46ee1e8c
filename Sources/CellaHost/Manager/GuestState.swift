import CellaAPI
import CellaSys
import Foundation

/// The daemon's record of a guest's run (`state.json`): what it intends and what it has made, so the
/// next daemon can re-adopt, finish or roll back whatever this one was doing when it died.
struct GuestState: Codable, Equatable, Sendable {
  /// The status last decided (`starting`/`stopping` while an operation runs).
  var status: GuestStatus = .stopped
  /// The overlay is (or is about to be) mounted on the guest's rootfs, and for a `security.userns`
  /// guest its idmapped lower layer: recorded before either mount (`Overlay.unmount` takes down both).
  var mounted = false
  var keeperPID: Int32?
  var keeperStartTime: UInt64?
  var initPID: Int32?
  var started: String?
  var lastExit: ExitInfo?
  var restartCount = 0
  /// `cella stop`, `kill`, `restart` or `delete --force` asked the guest to end: no restart policy,
  /// and the exit reason is `stopped` (or `killed` for a signal sent by `cella kill`).
  var stopRequested = false
  var killRequested = false
  /// `boot.restart` scheduled a restart that has not run yet (a stop or delete cancels it).
  var restartPending = false
  /// Why the guest is in `error`.
  var error: String?
  /// The NICs of the current run, their host ends named: recorded before the runtime makes them, so
  /// that whoever finishes the run (or a new daemon) deletes what is left. Absent without NICs (and in
  /// state files of daemons before networks).
  var nics: [StartedNIC]?
  /// A VM's accelerator in this run, with why when it is TCG (`AccelVerdict.summary`).
  var accelerator: String?

  static func load(_ paths: GuestPaths) throws(HostError) -> GuestState {
    let bytes: [UInt8]
    do { bytes = try FileIO.read(paths.state) } catch {
      if error.errno == ENOENT { return GuestState() }
      throw HostError("read", path: paths.state, errno: error.errno)
    }
    do { return try JSONDecoder().decode(GuestState.self, from: Data(bytes)) } catch {
      throw HostError(.invalidArgument, "\(paths.state): not a guest state: \(error)")
    }
  }

  func save(_ paths: GuestPaths) throws(HostError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    let data: Data
    do { data = try encoder.encode(self) } catch { throw HostError(.internal, "encode guest state: \(error)") }
    do {
      try FileIO.writeAtomically(directory: paths.dir, name: "state.json", Array(data) + [10], durable: false)
    } catch {
      throw HostError("write", path: paths.state, errno: error.errno)
    }
  }
}

/// A NIC as a run made it: what the host end is called and what the guest may send as.
struct StartedNIC: Codable, Equatable, Sendable {
  /// N of `nic.N.*`.
  var index: Int
  var network: String
  var bridge: String
  /// The host end of the veth (`cv` and 8 random hex digits).
  var hostInterface: String
  var mac: String
  var ipv4: String
  /// The network's prefix length and gateway, as the guest was given them.
  var prefixLength: Int
  var gateway: String
}
