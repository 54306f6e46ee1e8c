import CellaAPI
import CellaNet
import CellaSys
import Foundation
import Glibc

// Networks: a bridge with the gateway address, cella's nft tables and a dnsmasq each, recorded in
// networks/NAME/network.yaml with the phase written before each step (recovery in
// Manager+NetworkRecovery.swift).
extension Manager {
  public func listNetworks() throws -> [NetworkInfo] {
    networkRecords().filter { $0.phase == .ready }.map { networkInfo($0) }
  }

  public func network(_ name: String) throws -> NetworkInfo {
    try Names.check(name, as: "network")
    let record = try networkRecord(name)
    return networkInfo(record, warning: forwardWarning([record]))
  }

  public func createNetwork(_ request: CreateNetworkRequest) throws -> NetworkInfo {
    try Names.check(request.name, as: "network")
    let record = try networkLock.withLock { _ throws(HostError) in try makeNetwork(request) }
    log.info("network \(record.name): created (\(record.subnet), bridge \(record.bridge))")
    let warning = forwardWarning([record])
    if let warning { log.warning("network \(record.name): \(warning)") }
    return networkInfo(record, warning: warning)
  }

  public func deleteNetwork(_ name: String) throws {
    try Names.check(name, as: "network")
    try networkLock.withLock { _ throws(HostError) in
      let paths = layout.network(name)
      guard FileIO.exists(paths.record) else { throw HostError(.notFound, "network \"\(name)\" does not exist") }
      var record = try NetworkRecord.read(paths.record, name: name)
      let users = guestsUsing(network: name)
      if !users.isEmpty {
        throw HostError(
          .invalidState,
          "network \"\(name)\" is used by \(users.count == 1 ? "guest" : "guests") \(users.joined(separator: ", ")): "
            + "remove their nic.N.network keys or delete them first")
      }
      record.phase = .deleting
      try record.write(to: paths.record)
      try removeNetwork(record)
    }
    log.info("network \(name): deleted")
  }

  /// The record of a ready network, for guests joining it.
  func networkRecord(_ name: String) throws(HostError) -> NetworkRecord {
    let paths = layout.network(name)
    guard FileIO.exists(paths.record) else { throw HostError(.notFound, "network \"\(name)\" does not exist") }
    let record = try NetworkRecord.read(paths.record, name: name)
    guard record.phase == .ready else {
      throw HostError(
        .invalidState, "network \"\(name)\" is \(record.phase.rawValue == "creating" ? "being made" : "being deleted")")
    }
    return record
  }

  /// The address book of a network's guests.
  func ipam(_ record: NetworkRecord) throws(HostError) -> IPAMStore {
    do {
      return try IPAMStore(
        directory: layout.network(record.name).ipam, network: record.name, subnet: record.subnet,
        gateway: record.gateway)
    } catch {
      throw HostError("network \"\(record.name)\"", error)
    }
  }

  /// Replaces cella's nftables tables with what the store holds now (networks, guest ports, published ports).
  func applyFirewall() throws(HostError) { try applyFirewall(including: nil) }

  /// Rewrites a network's dnsmasq lease and name files from its IPAM leases and tells dnsmasq (SIGHUP).
  func refreshNames(network: String) {
    networkLock.withLock { _ in
      guard let record = try? networkRecord(network) else { return }
      do throws(HostError) { try writeNameFiles(record) } catch {
        log.warning("network \(network): \(error.message)")
        return
      }
      Dnsmasq.reload(layout.network(network))
    }
  }

  // MARK: - Steps

  /// Every network record the store holds, whatever its phase; unreadable ones are logged and skipped.
  func networkRecords() -> [NetworkRecord] {
    let entries = (try? FileIO.listDirectory(layout.networks)) ?? []
    return entries.filter { !$0.hasPrefix(".") }.sorted().compactMap { name -> NetworkRecord? in
      let path = layout.network(name).record
      guard FileIO.exists(path) else { return nil }
      do throws(HostError) { return try NetworkRecord.read(path, name: name) } catch {
        log.warning("network \(name): \(error.message)")
        return nil
      }
    }
  }

  /// Plans, records and makes a network; any failure undoes every step taken. The caller holds `networkLock`.
  private func makeNetwork(_ request: CreateNetworkRequest) throws(HostError) -> NetworkRecord {
    let paths = layout.network(request.name)
    if FileIO.exists(paths.dir) { throw HostError(.alreadyExists, "network \"\(request.name)\" exists already") }
    let routes: [IPv4Route]
    do { routes = try IPv4RouteTable.read() } catch { throw HostError("", error) }
    let links = try netlink { (s) throws(NetError) in Set(try s.links().map(\.name)) }
    let plan = try NetworkPlan.make(request, others: networkRecords(), routes: routes, links: links)
    // Tables of another store are refused before anything is recorded or made.
    try FirewallOwner.check(try FirewallOwner.holder(try nftApplier()), mark: FirewallOwner.mark(stateDir: layout.root))
    for (dir, mode) in [(layout.networks, 0o711), (paths.dir, 0o755)] as [(String, mode_t)]
    where mkdir(dir, mode) != 0 && errno != EEXIST {
      throw HostError("mkdir", path: dir, errno: errno)
    }
    do { try checkDnsmasqReaches(paths.dir) } catch {
      try? FileIO.removeTree(paths.dir)
      throw error
    }
    var record = NetworkRecord(
      name: request.name, subnet: plan.subnet, gateway: plan.gateway, nat: request.nat ?? true,
      isolated: request.isolated ?? false, bridge: plan.bridge, created: Timestamp.now(), phase: .creating)
    do {
      // Recorded before anything is made: a daemon killed from here on finds the bridge's name and undoes.
      try record.write(to: paths.record)
      try ensureBridge(record)
      try applyFirewall(including: record)
      TestPause.at("network-create")
      try startDnsmasq(record)
      record.phase = .ready
      try record.write(to: paths.record)
    } catch {
      undoNetwork(record)
      throw error
    }
    watchDnsmasq(record.name)
    return record
  }

  /// Removes whatever of `record` exists, in the reverse order of making it, then its directory.
  /// Each step copes with its object being gone already, so a half-made network and one removed
  /// halfway both end up with nothing left. The caller holds `networkLock`.
  func removeNetwork(_ record: NetworkRecord) throws(HostError) {
    let paths = layout.network(record.name)
    Dnsmasq.stop(paths)
    do {
      let s = try NetlinkSocket.open()
      do { try deleteOwnLink(s, record.bridge, kinds: ["bridge"], for: "network \(record.name)") } catch
        where error.kind == .notFound
      {}
    } catch {
      throw HostError("network \"\(record.name)\"", error)
    }
    // The record is still there (creating or deleting), so the tables are rebuilt without this network
    // (and removed with the last one) before the record goes: a crash before this point redoes it.
    try applyFirewall(including: nil)
    do { try FileIO.removeTree(paths.dir) } catch { throw HostError("network \"\(record.name)\"", error) }
  }

  /// `removeNetwork` for a failed create: the create's own error is the one that counts.
  private func undoNetwork(_ record: NetworkRecord) {
    do { try removeNetwork(record) } catch {
      log.warning("network \(record.name): undoing a failed create: \(error.message)")
    }
  }

  /// Makes the bridge of `record` if it is missing, gives it the gateway address if it lacks it, and sets it up.
  @discardableResult
  func ensureBridge(_ record: NetworkRecord) throws(HostError) -> Bool {
    try netlink { (s) throws(NetError) -> Bool in
      var made = false
      do throws(NetError) { _ = try s.link(record.bridge) } catch  where error.kind == .notFound {
        try s.createBridge(record.bridge)
        made = true
      }
      // A bridge without a MAC of its own takes its lowest port's, so a guest's start or stop would
      // change the gateway's MAC under every other guest's ARP cache (the gateway unreachable until it
      // expires); an address set once is kept.
      let mac = Self.bridgeMAC(record.name)
      if try s.link(record.bridge).mac != mac { try s.setMAC(record.bridge, mac) }
      let held = try s.addresses(on: record.bridge).contains {
        $0.address == record.gateway && Int($0.prefixLength) == record.subnet.prefixLength
      }
      if !held {
        try s.addAddress(
          record.gateway, prefixLength: record.subnet.prefixLength, broadcast: record.subnet.broadcast,
          to: record.bridge)
      }
      try s.setLink(record.bridge, up: true)
      return made
    }
  }

  /// The gateway's MAC on network `name`: stable, locally administered, never a guest's (guest names
  /// have no '/').
  static func bridgeMAC(_ name: String) -> MACAddress { MACAddress.stableDefault(name: "network/" + name, nic: 0) }

  /// Writes the files of `record`'s dnsmasq and starts it (it must not run).
  func startDnsmasq(_ record: NetworkRecord) throws(HostError) {
    let paths = layout.network(record.name)
    try writeNameFiles(record)
    try writeFile(paths.dnsmasqConfig, DnsmasqFiles.config(record, paths, user: Dnsmasq.user))
    _ = try Dnsmasq.start(paths)
  }

  /// Watches a network's running dnsmasq, so that its end restarts it.
  func watchDnsmasq(_ network: String) {
    guard let pid = Dnsmasq.running(layout.network(network)) else { return }
    dnsmasqWatch.watch(network, pid: pid, startTime: ProcStat.read(pid)?.startTime)
  }

  /// A network's dnsmasq ended: a ready network gets a new one after a second (a dnsmasq that dies at
  /// once does not spin); a network being deleted, or gone, does not.
  func dnsmasqEnded(_ network: String) {
    let manager = self
    DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
      manager.networkLock.withLock { _ in
        let paths = manager.layout.network(network)
        guard let record = try? NetworkRecord.read(paths.record, name: network), record.phase == .ready,
          Dnsmasq.running(paths) == nil
        else { return }
        do throws(HostError) {
          try manager.startDnsmasq(record)
          manager.log.warning("network \(network): dnsmasq had ended; restarted")
        } catch {
          manager.log.error("network \(network): dnsmasq ended and could not be restarted: \(error.message)")
          return
        }
        manager.watchDnsmasq(network)
      }
    }
  }

  /// Writes `dhcp-hosts` and `names` from the network's IPAM leases (owners `GUEST/N`).
  func writeNameFiles(_ record: NetworkRecord) throws(HostError) {
    let paths = layout.network(record.name)
    let hosts = try networkHosts(record)
    try writeFile(paths.dnsmasqHosts, DnsmasqFiles.dhcpHosts(hosts))
    try writeFile(paths.dnsmasqNames, DnsmasqFiles.names(hosts))
  }

  /// The guest NICs IPAM has addresses for on `record`'s network.
  func networkHosts(_ record: NetworkRecord) throws(HostError) -> [DnsmasqFiles.Host] {
    let store = try ipam(record)
    let leases: [IPAMLease]
    do { leases = try store.leases() } catch { throw HostError("network \"\(record.name)\"", error) }
    return leases.compactMap { lease -> DnsmasqFiles.Host? in
      let parts = lease.owner.split(separator: "/")
      guard parts.count == 2, let nic = Int(parts[1]) else { return nil }
      let guest = String(parts[0])
      // The lease carries the MAC (leases from before it did: the guest's config), so writing a
      // network's names reads one file, not every guest's configuration.
      return DnsmasqFiles.Host(
        guest: guest, nic: nic, mac: lease.mac ?? nicMAC(guest: guest, index: nic), ipv4: lease.address)
    }
  }

  /// The network as the API shows it.
  func networkInfo(_ record: NetworkRecord, warning: String? = nil) -> NetworkInfo {
    let members = ((try? networkHosts(record)) ?? []).map {
      NetworkMember(guest: $0.guest, nic: $0.nic, ipv4: $0.ipv4.description, mac: $0.mac?.description ?? "")
    }
    return NetworkInfo(
      name: record.name, subnet: record.subnet.description, gateway: record.gateway.description, nat: record.nat,
      isolated: record.isolated, bridge: record.bridge, created: record.created,
      members: members.sorted { ($0.guest, $0.nic) < ($1.guest, $1.nic) },
      dnsmasqPID: Dnsmasq.running(layout.network(record.name)).map(Int.init), warning: warning)
  }

  // MARK: - Firewall

  /// Rebuilds cella's tables from the ready networks (and `including`, one being made) with the guest
  /// ports and published ports. A store without any network never touches nftables; once its last
  /// network is gone its own tables are removed. Tables another store marked are refused.
  func applyFirewall(including extra: NetworkRecord?) throws(HostError) {
    // Read and replace as one step: two guests starting at once must not each load a rule set that
    // lacks the other's port.
    try firewall.withLock { (verified) throws(HostError) in
      verified = false
      verified = try replaceFirewall(including: extra)
    }
  }

  /// Adds (`add`) or deletes (`delete`) the anti-spoofing entries of a run's NICs in one small transaction,
  /// without replacing the tables (a start costs one short nft call whatever the number of guests);
  /// replaces the whole tables instead when this daemon has not made them yet or nft refuses the change.
  func updateFirewallPorts(_ verb: String, _ nics: [StartedNIC]) throws(HostError) {
    let ports = nics.compactMap { nic -> NftModel.GuestPort? in
      guard let mac = MACAddress(nic.mac), let ipv4 = IPv4Address(nic.ipv4) else { return nil }
      return NftModel.GuestPort(interface: nic.hostInterface, bridge: nic.bridge, mac: mac, ipv4: ipv4)
    }
    try firewall.withLock { (verified) throws(HostError) in
      TestPause.once("firewall-replace", armed: layout.root + "/.pause-firewall-replace", seconds: 1)
      if verified {
        let isolated = Set(networkRecords().filter { $0.phase == .ready && $0.isolated }.map(\.bridge))
        let applier = try nftApplier()
        do throws(NetError) {
          try applier.apply(NftRuleset.portElements(verb, ports, isolatedBridges: isolated))
          return
        } catch {
          let names = ports.map(\.interface).joined(separator: " ")
          log.info("firewall: \(verb) of \(names) refused, replacing the tables: \(error.message)")
        }
      }
      verified = false
      verified = try replaceFirewall(including: nil)
    }
  }

  /// Replaces the tables with what the store holds; true when they are now this store's and in place.
  private func replaceFirewall(including extra: NetworkRecord?) throws(HostError) -> Bool {
    let records = networkRecords()
    if records.isEmpty && extra == nil { return false }
    let ready = records.filter { $0.phase == .ready && $0.name != extra?.name } + (extra.map { [$0] } ?? [])
    let applier = try nftApplier()
    let mark = FirewallOwner.mark(stateDir: layout.root)
    let holder = try FirewallOwner.holder(applier)
    try FirewallOwner.check(holder, mark: mark)
    if ready.isEmpty {
      if holder != .nobody {
        do { try applier.removeTables() } catch { throw HostError("", error) }
      }
      restoreForwarding()
      return false
    }
    enableForwarding()
    let entries = guestFirewallEntries(networks: ready)
    TestPause.once("firewall-replace", armed: layout.root + "/.pause-firewall-replace", seconds: 1)
    let model = NftModel(
      networks: ready.map {
        NftModel.Network(
          bridge: $0.bridge, subnet: $0.subnet, nat: $0.nat, isolated: $0.isolated, gateway: $0.gateway)
      },
      ports: entries.ports, published: entries.published, owner: mark)
    do { try applier.replace(with: model) } catch { throw HostError("", error) }
    return true
  }

  /// net.ipv4.ip_forward of the daemon's network namespace.
  static let forwardingKnob = "/proc/sys/net/ipv4/ip_forward"

  /// Guests reach beyond their bridge only if the host routes: net.ipv4.ip_forward (of the daemon's
  /// network namespace) is turned on with the first network, as libvirt and Incus do; this also keeps
  /// Docker, if it starts later, from setting the FORWARD policy to DROP. The store records that cella
  /// turned it on before it does (a daemon killed in between still knows), so that the last network's
  /// end turns it off again, and only then.
  func enableForwarding() {
    guard let now = try? FileIO.readString(Self.forwardingKnob), now.hasPrefix("0") else { return }
    do {
      try FileIO.writeAtomically(path: layout.forwardingMark, Array("cella turned net.ipv4.ip_forward on\n".utf8))
      try FileIO.write(Self.forwardingKnob, "1")
      log.info("net.ipv4.ip_forward: turned on (cella networks route their guests' traffic)")
    } catch {
      log.warning("net.ipv4.ip_forward: cannot turn it on: \(error.message)")
    }
  }

  /// Turns net.ipv4.ip_forward off again if cella turned it on (the last network is gone).
  func restoreForwarding() {
    guard FileIO.exists(layout.forwardingMark) else { return }
    do {
      try FileIO.write(Self.forwardingKnob, "0")
      unlink(layout.forwardingMark)
      log.info("net.ipv4.ip_forward: turned off again (no cella network is left)")
    } catch {
      log.warning("net.ipv4.ip_forward: cannot turn it off: \(error.message)")
    }
  }

  /// The warning for NAT networks among `records` whose traffic the iptables FORWARD policy drops.
  func forwardWarning(_ records: [NetworkRecord]) -> String? {
    let nat = records.filter(\.nat).map(\.bridge)
    guard !nat.isEmpty, let applier = try? NftApplier(), ForwardPolicy.drops(applier) else { return nil }
    return ForwardPolicy.warning(bridges: nat)
  }

  // MARK: - Helpers

  /// dnsmasq re-reads the name files as its unprivileged user: every directory above them must let
  /// others search it, or names would silently stop resolving at the first SIGHUP.
  private func checkDnsmasqReaches(_ dir: String) throws(HostError) {
    if let (path, mode) = try SearchablePath.firstClosed(above: dir) {
      throw HostError(
        .permission,
        "dnsmasq (user \(Dnsmasq.user)) cannot search \(path) (mode \(String(mode, radix: 8))) "
          + "on the way to the network's name files; make it searchable (chmod o+x \(path))")
    }
  }

  private func nftApplier() throws(HostError) -> NftApplier {
    do { return try NftApplier() } catch { throw HostError("", error) }
  }

  private func netlink<T>(_ body: (NetlinkSocket) throws(NetError) -> T) throws(HostError) -> T {
    do { return try body(try NetlinkSocket.open()) } catch { throw HostError("", error) }
  }

  /// Writes a file dnsmasq reads (as its unprivileged user: world-readable).
  private func writeFile(_ path: String, _ text: String) throws(HostError) {
    do { try FileIO.writeAtomically(path: path, Array(text.utf8), mode: 0o644, durable: false) } catch {
      throw HostError("", error)
    }
  }
}
