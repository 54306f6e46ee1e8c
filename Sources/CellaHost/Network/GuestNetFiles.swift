/// The /etc/resolv.conf and /etc/hosts a container guest with NICs sees (files in its directory,
/// bound read-only by its spec): the network's dnsmasq on the gateway answers for `NAME` and
/// `NAME.cella`, so guests find each other by name.
public enum GuestNetFiles {
  /// The search domain of guest names.
  public static let domain = "cella"

  /// resolv.conf: the gateway of the guest's first NIC as its one name server.
  public static func resolvConf(nameserver: String) -> String {
    "# Written by cella at each start: the network's dnsmasq on its gateway.\nnameserver \(nameserver)\nsearch \(domain)\n"
  }

  /// hosts: localhost, and the guest's own name (and hostname, when another) on its first NIC's address.
  public static func hosts(name: String, hostname: String?, address: String) -> String {
    var names = ["\(name).\(domain)", name]
    if let hostname, hostname != name { names.append(hostname) }
    return """
      # Written by cella at each start.
      127.0.0.1\tlocalhost
      ::1\tlocalhost ip6-localhost ip6-loopback
      \(address)\t\(names.joined(separator: " "))

      """
  }
}
