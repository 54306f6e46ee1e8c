import CellaNet
import CellaSys
import CellaVM
import Glibc

/// The guest's NICs, configured statically over rtnetlink: each found by its MAC, brought up, addressed, and
/// the first gateway made the default route.
enum GuestNetwork {
  static func configure(_ nics: [GuestBootConfig.NIC]) throws(NetError) {
    let netlink = try NetlinkSocket.open()
    try netlink.setLink("lo", up: true)
    if nics.isEmpty { return }
    // virtio_net probes as its module loads, but give a slow guest a moment to register the links.
    var links = try netlink.links()
    var waited = 0
    while waited < 3000 && !nics.allSatisfy({ nic in links.contains { $0.mac == MACAddress(nic.mac) } }) {
      usleep(20_000)
      waited += 20
      links = try netlink.links()
    }
    var routed = false
    for (i, nic) in nics.enumerated() {
      guard let link = links.first(where: { $0.mac == MACAddress(nic.mac) }) else {
        throw NetError(.notFound, "nics[\(i)]: no link has MAC \(nic.mac) (is virtio_net in the initramfs?)")
      }
      guard let (address, prefix) = GuestBootConfig.parseCIDR(nic.address) else {
        throw NetError(.invalidArgument, "nics[\(i)].address: \(nic.address) is not A.B.C.D/prefix")
      }
      try netlink.setLink(link.name, up: true)
      try netlink.addAddress(address, prefixLength: prefix, to: link.name)
      if let gateway = nic.gateway, !routed, let via = IPv4Address(gateway) {
        try netlink.addDefaultRoute(via: via, link: link.name)
        routed = true
      }
    }
  }
}
