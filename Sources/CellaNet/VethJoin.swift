import CellaSys
import Glibc

/// A NIC of a process's network namespace joined to a bridge by a veth pair: the host end on the
/// bridge, the peer made directly in the namespace with its name, MAC, address and (for the first
/// NIC) the default route. Written as one `--nic` argument so that a hook can be told it:
/// `host=cv1a2b3c4d,bridge=cb-lan,name=eth0,mac=02:…,ipv4=10.210.0.5/24[,gateway=10.210.0.1]`.
public struct VethJoin: Sendable, Equatable {
  /// The host end's name.
  public var host: String
  /// The bridge the host end joins.
  public var bridge: String
  /// The peer's name inside the namespace.
  public var name: String
  public var mac: MACAddress
  public var ipv4: IPv4Address
  /// The network the address is in (its prefix length goes on the address).
  public var subnet: IPv4Subnet
  /// The default route's next hop; nil: no default route through this NIC.
  public var gateway: IPv4Address?

  public init(
    host: String, bridge: String, name: String, mac: MACAddress, ipv4: IPv4Address, subnet: IPv4Subnet,
    gateway: IPv4Address?
  ) {
    self.host = host
    self.bridge = bridge
    self.name = name
    self.mac = mac
    self.ipv4 = ipv4
    self.subnet = subnet
    self.gateway = gateway
  }

  /// The argument form.
  public var argument: String {
    var fields = [
      "host=\(host)", "bridge=\(bridge)", "name=\(name)", "mac=\(mac)", "ipv4=\(ipv4)/\(subnet.prefixLength)",
    ]
    if let gateway { fields.append("gateway=\(gateway)") }
    return fields.joined(separator: ",")
  }

  /// Parses the argument form; any problem is one line naming the field.
  public static func parse(_ text: String) throws(NetError) -> VethJoin {
    var fields: [String: String] = [:]
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let eq = part.firstIndex(of: "=") else {
        throw NetError(.invalidArgument, "--nic \"\(text)\": \"\(part)\" is not KEY=VALUE")
      }
      let key = String(part[..<eq])
      guard Self.keys.contains(key) else {
        throw NetError(.invalidArgument, "--nic \"\(text)\": unknown key \"\(key)\"")
      }
      guard fields.updateValue(String(part[part.index(after: eq)...]), forKey: key) == nil else {
        throw NetError(.invalidArgument, "--nic \"\(text)\": \(key) given twice")
      }
    }
    func field(_ key: String) throws(NetError) -> String {
      guard let value = fields[key] else { throw NetError(.invalidArgument, "--nic \"\(text)\": \(key) is missing") }
      return value
    }
    let host = try NetlinkSocket.checked(try field("host"))
    let bridge = try NetlinkSocket.checked(try field("bridge"))
    let name = try NetlinkSocket.checked(try field("name"))
    let mac = try MACAddress.parseGuestMAC(try field("mac"), what: "--nic mac")
    let cidr = try field("ipv4")
    let slash = cidr.split(separator: "/", omittingEmptySubsequences: false)
    guard slash.count == 2, let length = Int(slash[1]), (0...32).contains(length) else {
      throw NetError(.invalidArgument, "--nic ipv4 \"\(cidr)\": not ADDRESS/PREFIX")
    }
    let ipv4 = try IPv4Address.parse(String(slash[0]), what: "--nic ipv4")
    let subnet = IPv4Subnet(containing: ipv4, prefixLength: length)
    let gateway = try fields["gateway"].map { (g) throws(NetError) in try IPv4Address.parse(g, what: "--nic gateway") }
    return VethJoin(host: host, bridge: bridge, name: name, mac: mac, ipv4: ipv4, subnet: subnet, gateway: gateway)
  }

  private static let keys: Set<String> = ["host", "bridge", "name", "mac", "ipv4", "gateway"]

  /// Makes every NIC of `joins` in the network namespace of process `pid`, and brings its `lo` up. A
  /// failure deletes the pairs made so far and names the NIC.
  public static func apply(_ joins: [VethJoin], pid: Int32) throws(NetError) {
    let namespace: FileDescriptor
    do { namespace = try FileDescriptor.open("/proc/\(pid)/ns/net") } catch {
      throw NetError(error.kind, "the network namespace of pid \(pid): \(error.message)")
    }
    let host = try NetlinkSocket.open()
    let guest = try NetlinkSocket.open(inNetnsFD: namespace.rawValue)
    var made: [String] = []
    do throws(NetError) {
      try guest.setLink("lo", up: true)
      for join in joins {
        do throws(NetError) {
          try host.createVeth(join.host, peer: join.name, peerNamespace: .fd(namespace.rawValue))
          made.append(join.host)
          try join.configure(host: host, guest: guest)
        } catch {
          throw NetError(error.kind, "nic \(join.name) (\(join.host) on \(join.bridge)): \(error.message)")
        }
      }
    } catch {
      for name in made { try? host.deleteLink(name) }
      throw error
    }
  }

  /// Everything after the pair exists: the guest end's MAC, address and link state, then the host end
  /// on the bridge and up (after the guest end is what it claims to be), then the route (its gateway
  /// on a link with a carrier).
  private func configure(host: NetlinkSocket, guest: NetlinkSocket) throws(NetError) {
    try guest.setMAC(name, mac)
    try guest.addAddress(ipv4, prefixLength: subnet.prefixLength, broadcast: subnet.broadcast, to: name)
    try guest.setLink(name, up: true)
    try host.setMaster(self.host, bridge: bridge)
    try host.setLink(self.host, up: true)
    if let gateway { try guest.addDefaultRoute(via: gateway, link: name) }
  }
}
