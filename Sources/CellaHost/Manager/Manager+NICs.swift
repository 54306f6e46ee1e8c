import CellaAPI
import CellaNet
import CellaSys
import Glibc

/// A guest NIC with the network it joins and the address IPAM recorded for it.
struct BoundNIC: Sendable, Equatable {
  var nic: GuestNIC
  var network: NetworkRecord
  var ipv4: IPv4Address
  var mac: MACAddress
}

// Guest NICs: addresses recorded in each network's IPAM (owner `GUEST/N`) from create on and released
// at delete; a veth pair per NIC made by the guest's createRuntime hook (`cella-nic`), its host
// end named and recorded in state.json before the start; anti-spoofing entries for the firewall.
extension Manager {
  /// Records an address for every NIC in `nics` of `guest` (a NIC keeps the one it holds), and releases
  /// the addresses of NICs it no longer has (or that moved to another network or static address).
  /// Every problem is found before anything changes: an unknown network, a static address outside its
  /// subnet, its gateway or broadcast, or taken (naming the holder), or a MAC another NIC on the network
  /// has. `commit` (writing guest.yaml) runs under the same lock, so two creates or changes never both
  /// pass the MAC check; given, the name files of every network the guest's NICs are on are rewritten
  /// afterwards, from the guest.yaml it wrote (their static leases need its MACs).
  @discardableResult
  func bindAddresses(
    _ guest: String, _ nics: [GuestNIC], commit: (() throws(HostError) -> Void)? = nil
  ) throws(HostError) -> [BoundNIC] {
    let (bound, touched) = try nicLock.withLock { _ throws(HostError) in
      var (bound, touched) = try bindLocked(guest, nics)
      if let commit {
        try commit()
        touched.formUnion(nics.map(\.network))
      }
      return (bound, touched)
    }
    // After the lock: refreshNames takes networkLock.
    for network in touched.sorted() { refreshNames(network: network) }
    return bound
  }

  /// Refuses an explicit `nic.N.mac` of `nics` that another guest's NIC on the same network has (its
  /// explicit or default MAC), in one line naming the holder (one guest's own NICs are checked with its
  /// config). Only explicit values are checked: a default derives from the guest's
  /// name, unique in the store, so a guest that sets none (the common case) starts without reading
  /// every guest.yaml. The caller holds `nicLock`.
  func checkMACs(_ guest: String, _ nics: [GuestNIC]) throws(HostError) {
    let explicit = nics.filter { $0.mac != nil }
    guard !explicit.isEmpty else { return }
    for other in guestNames() where other != guest {
      guard let record = try? loadRecord(other), let effective = try? effectiveConfig(of: record) else { continue }
      for theirs in effective.nics {
        if let mine = explicit.first(where: { $0.network == theirs.network && $0.mac == theirs.mac(guest: other) }) {
          throw HostError(
            .alreadyExists,
            "guest \"\(guest)\": nic.\(mine.index).mac: \(mine.mac(guest: guest)) on network \(mine.network) "
              + "is taken by \(Self.describe(theirs.owner(guest: other)))")
        }
      }
    }
  }

  /// `bindAddresses` without the lock and the name files: the bound NICs and the networks whose leases changed.
  private func bindLocked(_ guest: String, _ nics: [GuestNIC]) throws(HostError) -> ([BoundNIC], Set<String>) {
    try checkMACs(guest, nics)
    var planned: [(nic: GuestNIC, network: NetworkRecord, store: IPAMStore)] = []
    for nic in nics {
      let network: NetworkRecord
      do { network = try networkRecord(nic.network) } catch {
        throw HostError(error.kind, "guest \"\(guest)\": nic.\(nic.index).network: \(error.message)")
      }
      let store = try ipam(network)
      if let wanted = nic.ipv4 {
        let owner = nic.owner(guest: guest)
        do throws(NetError) {
          try network.subnet.checkGuestAddress(wanted, gateway: network.gateway)
          if let holder = try store.leases().first(where: { $0.address == wanted }), holder.owner != owner {
            throw NetError(
              .alreadyExists, "address \(wanted) on network \(network.name) is taken by \(Self.describe(holder.owner))")
          }
        } catch {
          throw HostError(error.kind, "guest \"\(guest)\": nic.\(nic.index).ipv4: \(error.message)")
        }
      }
      planned.append((nic, network, store))
    }
    var touched = Set<String>()
    for network in networkRecords() where network.phase == .ready {
      guard let store = try? ipam(network), let leases = try? store.leases() else { continue }
      for lease in leases {
        guard let index = Self.nicIndex(owner: lease.owner, guest: guest) else { continue }
        let keep = nics.contains {
          $0.index == index && $0.network == network.name && ($0.ipv4 ?? lease.address) == lease.address
        }
        if keep { continue }
        do { try store.release(owner: lease.owner) } catch {
          throw HostError("guest \"\(guest)\": network \"\(network.name)\"", error)
        }
        touched.insert(network.name)
      }
    }
    var bound: [BoundNIC] = []
    for p in planned {
      let owner = p.nic.owner(guest: guest)
      do {
        let mac = p.nic.mac(guest: guest)
        let held = try p.store.leases().first { $0.owner == owner }
        let address = try p.store.allocate(owner: owner, p.nic.request, mac: mac)
        if held?.address != address || held?.mac != mac { touched.insert(p.network.name) }
        bound.append(BoundNIC(nic: p.nic, network: p.network, ipv4: address, mac: mac))
      } catch {
        throw HostError(error.kind, "guest \"\(guest)\": nic.\(p.nic.index).ipv4: \(error.message)")
      }
    }
    return (bound, touched)
  }

  /// N when `owner` is `GUEST/N` of `guest`.
  static func nicIndex(owner: String, guest: String) -> Int? {
    guard owner.hasPrefix(guest + "/") else { return nil }
    return Int(owner.dropFirst(guest.count + 1))
  }

  /// An IPAM owner in words: `web/0` → `nic 0 of guest "web"`.
  static func describe(_ owner: String) -> String {
    guard let slash = owner.lastIndex(of: "/"), let n = Int(owner[owner.index(after: slash)...]) else { return owner }
    return "nic \(n) of guest \"\(owner[..<slash])\""
  }

  /// The addresses IPAM holds for `guest`'s NICs, by index (no lease: nil).
  func recordedAddresses(_ guest: String, _ nics: [GuestNIC]) -> [Int: IPv4Address] {
    var out: [Int: IPv4Address] = [:]
    for nic in nics {
      guard let network = try? networkRecord(nic.network), let store = try? ipam(network),
        let address = try? store.lookup(owner: nic.owner(guest: guest))
      else { continue }
      out[nic.index] = address
    }
    return out
  }

  /// The NICs a run is about to make: each host end gets a fresh `cv` name.
  static func plannedRun(_ bound: [BoundNIC]) -> [StartedNIC] {
    bound.map {
      StartedNIC(
        index: $0.nic.index, network: $0.network.name, bridge: $0.network.bridge,
        hostInterface: GuestLinkName.fresh(),
        mac: $0.mac.description,
        ipv4: $0.ipv4.description, prefixLength: $0.network.subnet.prefixLength,
        gateway: $0.network.gateway.description)
    }
  }

  /// What the hook is told to make: the first NIC carries the default route.
  static func joins(_ nics: [StartedNIC]) -> [VethJoin] {
    nics.enumerated().compactMap { i, n in
      guard let mac = MACAddress(n.mac), let ipv4 = IPv4Address(n.ipv4), let gateway = IPv4Address(n.gateway),
        (0...32).contains(n.prefixLength)
      else { return nil }
      return VethJoin(
        host: n.hostInterface, bridge: n.bridge, name: GuestNIC.interfaceName(n.index), mac: mac, ipv4: ipv4,
        subnet: IPv4Subnet(containing: ipv4, prefixLength: n.prefixLength), gateway: i == 0 ? gateway : nil)
    }
  }

  /// Writes the guest's resolv.conf and hosts (bound read-only over the guest's own by its spec).
  func writeNetworkFiles(_ record: GuestRecord, _ effective: EffectiveConfig, _ nics: [StartedNIC], _ paths: GuestPaths)
    throws(HostError)
  {
    guard let first = nics.first else { return }
    let files = [
      (paths.resolvConf, GuestNetFiles.resolvConf(nameserver: first.gateway)),
      (paths.hosts, GuestNetFiles.hosts(name: record.name, hostname: effective.hostname, address: first.ipv4)),
    ]
    for (path, text) in files {
      do { try FileIO.writeAtomically(path: path, Array(text.utf8), mode: 0o644, durable: false) } catch {
        throw HostError("write", path: path, errno: error.errno)
      }
    }
  }

  /// Deletes the host ends of a run's NICs that are still there (deleting one takes its peer along;
  /// the kernel also removes a pair whose namespace died; a VM's tap goes with QEMU's fd). Only veths
  /// and taps with a derived name: state.json is no proof that a link is cella's.
  func removeHostInterfaces(_ name: String, _ nics: [StartedNIC]) {
    guard !nics.isEmpty else { return }
    let socket: NetlinkSocket
    do { socket = try NetlinkSocket.open() } catch {
      log.warning("guest \(name): \(error.message)")
      return
    }
    for nic in nics {
      guard GuestLinkName.isDerived(nic.hostInterface) else {
        log.warning("guest \(name): host interface \"\(nic.hostInterface)\" is no name cella gives; left alone")
        continue
      }
      do { try deleteOwnLink(socket, nic.hostInterface, kinds: ["veth", "tun"], for: "guest \(name)") } catch {
        if error.kind != .notFound { log.warning("guest \(name): \(error.message)") }
      }
    }
  }

  /// Deletes link `name` if it is of one of `kinds` (cella's bridges, veths and taps); a link of another kind under a
  /// recorded name (a hand-edited or hostile record, a device made since) is logged and left alone.
  func deleteOwnLink(_ socket: NetlinkSocket, _ name: String, kinds: Set<String>, for owner: String) throws(NetError) {
    let found = try socket.link(name).kind
    guard let found, kinds.contains(found) else {
      let wanted = kinds.sorted().joined(separator: " or ")
      log.warning("\(owner): \(name) is \(found.map { "a \($0)" } ?? "a device") link, not a \(wanted); left alone")
      return
    }
    try socket.deleteLink(name)
  }

  /// `applyFirewall`, logged instead of thrown where a run has already ended.
  func refreshFirewall(_ why: String) {
    do throws(HostError) { try applyFirewall() } catch { log.warning("firewall (\(why)): \(error.message)") }
  }

  /// Every guest NIC's anti-spoofing entry (running guests on `networks`) and every published port, for
  /// `applyFirewall`. An entry nft would refuse is skipped and logged (once per daemon), never passed on:
  /// the tables are replaced whole, so one stale or hand-made state.json or guest.yaml would otherwise
  /// block every network create, delete and recovery. Skipped: a NIC whose address is outside its
  /// bridge's subnet, a host interface named twice or not by cella, a published port a guest earlier in name order holds,
  /// and a host address no connection can reach.
  func guestFirewallEntries(networks: [NetworkRecord]) -> (
    ports: [NftModel.GuestPort], published: [NftModel.PublishedPort]
  ) {
    let subnets = Dictionary(networks.map { ($0.bridge, $0.subnet) }, uniquingKeysWith: { a, _ in a })
    var ports: [NftModel.GuestPort] = []
    var interfaces = Set<String>()
    var published: [(guest: String, mapping: PortMapping)] = []
    var out: [NftModel.PublishedPort] = []
    for name in guestNames() {
      let state = (try? GuestState.load(layout.guest(name))) ?? GuestState()
      let run = state.status == .stopped ? [] : state.nics ?? []
      var firstPort: IPv4Address?
      for nic in run {
        guard let mac = MACAddress(nic.mac), let ipv4 = IPv4Address(nic.ipv4), let subnet = subnets[nic.bridge]
        else { continue }
        guard subnet.contains(ipv4) else {
          skipFirewallEntry("guest \(name): nic \(nic.index): address \(ipv4) is outside \(subnet) of \(nic.bridge)")
          continue
        }
        guard GuestLinkName.isDerived(nic.hostInterface), interfaces.insert(nic.hostInterface).inserted else {
          skipFirewallEntry(
            "guest \(name): nic \(nic.index): host interface \(nic.hostInterface) is another's or no name cella gives")
          continue
        }
        ports.append(NftModel.GuestPort(interface: nic.hostInterface, bridge: nic.bridge, mac: mac, ipv4: ipv4))
        if nic.index == run.first?.index { firstPort = ipv4 }
      }
      guard let record = try? loadRecord(name), !record.ports.isEmpty, let target = firstPort ?? firstAddress(record)
      else { continue }
      for port in record.ports {
        if let a = port.hostAddress, let why = PortMapping.unpublishable(a) {
          skipFirewallEntry("guest \(name): port \(port): \(a): \(why)")
          continue
        }
        if let holder = published.first(where: { $0.mapping.clashes(with: port) }) {
          skipFirewallEntry("guest \(name): port \(port): guest \(holder.guest) publishes \(holder.mapping)")
          continue
        }
        published.append((name, port))
        out.append(
          NftModel.PublishedPort(
            proto: port.proto, hostPort: port.hostPort, hostAddress: port.hostAddress, guestAddress: target,
            guestPort: port.guestPort))
      }
    }
    return (ports, out)
  }

  /// Logs a firewall entry left out, the first time only (every full replacement meets it again).
  func skipFirewallEntry(_ what: String) {
    let first = firewallSkips.withLock { $0.insert(what).inserted }
    if first { log.warning("firewall: left out (nft would refuse it, and with it every rule): \(what)") }
  }

  /// The address of a guest's first NIC as IPAM holds it (where its published ports go).
  func firstAddress(_ record: GuestRecord) -> IPv4Address? {
    guard let effective = try? effectiveConfig(of: record), let first = effective.nics.first else { return nil }
    return recordedAddresses(record.name, [first])[first.index]
  }

  /// The MAC of NIC `index` of `guest`, nil when it has no such NIC.
  func nicMAC(guest: String, index: Int) -> MACAddress? {
    guard let record = try? loadRecord(guest), let effective = try? effectiveConfig(of: record),
      let nic = effective.nics.first(where: { $0.index == index })
    else { return nil }
    return nic.mac(guest: guest)
  }

  /// The guests whose effective config (own keys or through profiles) puts a NIC on `network`.
  func guestsUsing(network: String) -> [String] {
    guestNames().filter { name in
      guard let record = try? loadRecord(name), let effective = try? effectiveConfig(of: record) else { return false }
      return effective.nics.contains { $0.network == network }
    }
  }

  /// A guest's NICs as `info` shows them: the run's while it runs, else the config's with IPAM's addresses.
  func nicInfos(_ record: GuestRecord, _ state: GuestState, running: Bool) -> [GuestNICInfo]? {
    if running, let run = state.nics, !run.isEmpty {
      return run.map {
        GuestNICInfo(
          index: $0.index, name: GuestNIC.interfaceName($0.index), network: $0.network, ipv4: $0.ipv4, mac: $0.mac,
          hostInterface: $0.hostInterface)
      }
    }
    guard let effective = try? effectiveConfig(of: record), !effective.nics.isEmpty else { return nil }
    let addresses = recordedAddresses(record.name, effective.nics)
    return effective.nics.map {
      GuestNICInfo(
        index: $0.index, name: $0.interfaceName, network: $0.network, ipv4: addresses[$0.index]?.description,
        mac: $0.mac(guest: record.name).description)
    }
  }
}
