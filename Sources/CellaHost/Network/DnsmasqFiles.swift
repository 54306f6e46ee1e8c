import CellaNet

/// The files a network's dnsmasq reads, as text: its configuration (written before each start) and
/// the static leases and names (rewritten whenever a guest joins or leaves, then re-read on SIGHUP).
enum DnsmasqFiles {
  /// The DNS domain of guests: `NAME.cella`.
  static let domain = "cella"
  /// How long a DHCP lease lasts: the addresses are static, so this only sets how often clients renew.
  static let leaseTime = "12h"

  /// One guest NIC's static lease and name.
  struct Host: Equatable {
    var guest: String
    /// N of `nic.N.*`.
    var nic: Int
    var mac: MACAddress?
    var ipv4: IPv4Address
  }

  /// The configuration of `record`'s dnsmasq, running as `user`. Only this file is read
  /// (`--conf-file=` on the command line keeps /etc/dnsmasq.conf and /etc/dnsmasq.d out): it serves
  /// DNS and DHCP on the bridge's address only, hands out static leases only (IPAM chose every address),
  /// answers for `.cella` from the names file and never forwards those, and reads nothing of the
  /// host's /etc/hosts (the host's names are not the guests' business).
  static func config(_ record: NetworkRecord, _ paths: NetworkPaths, user: String) -> String {
    """
    # Written by cella for network \(record.name); rewritten before each start of its dnsmasq.
    interface=\(record.bridge)
    bind-interfaces
    except-interface=lo
    no-hosts
    domain=\(domain)
    local=/\(domain)/
    addn-hosts=\(paths.dnsmasqNames)
    dhcp-hostsfile=\(paths.dnsmasqHosts)
    dhcp-range=\(record.subnet.network),static,\(record.subnet.netmask),\(leaseTime)
    dhcp-option=option:router,\(record.gateway)
    dhcp-option=option:dns-server,\(record.gateway)
    dhcp-authoritative
    dhcp-leasefile=\(paths.dnsmasqLeases)
    pid-file=\(paths.dnsmasqPID)
    log-facility=\(paths.dnsmasqLog)
    user=\(user)
    group=\(group)

    """
  }

  /// The group dnsmasq runs as (its compiled default, `dip`, need not exist).
  static let group = "nogroup"

  /// `--dhcp-hostsfile`: `MAC,ADDRESS,NAME` per NIC whose MAC is known, so a VM asking by DHCP gets
  /// the address IPAM recorded.
  static func dhcpHosts(_ hosts: [Host]) -> String {
    hosts.compactMap { h in h.mac.map { "\($0),\(h.ipv4),\(h.guest)\n" } }.joined()
  }

  /// `--addn-hosts`: `ADDRESS NAME NAME.cella` for each guest's first NIC on the network (a name with
  /// two addresses would make clients pick one at random).
  static func names(_ hosts: [Host]) -> String {
    var seen = Set<String>()
    var out = ""
    for h in hosts.sorted(by: { ($0.guest, $0.nic) < ($1.guest, $1.nic) }) where seen.insert(h.guest).inserted {
      out += "\(h.ipv4) \(h.guest) \(h.guest).\(domain)\n"
    }
    return out
  }
}
