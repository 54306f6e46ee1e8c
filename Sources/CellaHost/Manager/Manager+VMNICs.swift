import CellaNet
import CellaSys
import Glibc

/// The taps of a VM guest's run, each open on its queue fd: QEMU inherits the fds (`-netdev tap,fd=N`).
/// A tap is not persistent, so it goes once every copy of its fd is closed: dropping this value
/// before the fds were handed on removes every tap it holds.
struct OpenTaps: ~Copyable {
  /// The taps' names, in the order of the NICs they were made for.
  let names: [String]
  private var fds: [Int32]

  init(names: [String], fds: [Int32]) {
    self.names = names
    self.fds = fds
  }

  deinit { for fd in fds { _ = Glibc.close(fd) } }

  /// The queue fds, in the order of `names`, for a system call made while this value is alive.
  var rawValues: [Int32] { fds }

  /// Gives up ownership without closing; the caller closes the returned fds.
  consuming func release() -> [Int32] {
    let fds = self.fds
    // `discard` needs trivially destroyed fields: an emptied list leaves the deinit nothing to close.
    self.fds = []
    return fds
  }
}

// A VM guest's NICs: a tap per NIC where a container gets a veth, made by the daemon (QEMU's jail has no
// /dev/net/tun and no CAP_NET_ADMIN), under the host interface name recorded in state.json so that
// `removeHostInterfaces` and the firewall's anti-spoofing entries treat both alike.
extension Manager {
  /// Makes a tap for each NIC of a VM guest's run (named its `hostInterface`), with the MTU of its
  /// network's bridge, a port of that bridge and up. Any failure leaves none of them behind.
  func openTaps(_ guest: String, _ nics: [StartedNIC]) throws(HostError) -> OpenTaps {
    let socket: NetlinkSocket
    do { socket = try NetlinkSocket.open() } catch { throw HostError("guest \(guest)", error) }
    var names: [String] = []
    var fds: [Int32] = []
    for nic in nics {
      do throws(NetError) {
        // IFF_VNET_HDR lets virtio-net's offloads through the tap: a 48 MiB HTTP download from a TCG
        // guest took 0.14-0.39 s with it, 0.8-1.35 s without (measured here).
        let tap = try Tap.create(nic.hostInterface, persistent: false, vnetHeader: true)
        names.append(tap.name)
        fds.append(tap.release())
        if let mtu = try socket.link(nic.bridge).mtu { try socket.setMTU(nic.hostInterface, mtu) }
        try socket.setMaster(nic.hostInterface, bridge: nic.bridge)
        try socket.setLink(nic.hostInterface, up: true)
      } catch {
        // Closing the fds made so far removes their taps.
        _ = OpenTaps(names: names, fds: fds)
        throw HostError(error.kind, "guest \(guest): nic.\(nic.index): \(error.message)")
      }
    }
    return OpenTaps(names: names, fds: fds)
  }
}
