import CellaNet
import CellaSys

extension Manager {
  /// Brings every network in line with its record after a daemon (re)start, then rebuilds the firewall.
  /// Every kernel object of a network is named in its record before it is made, so each case below
  /// knows all that can exist:
  /// - a directory without network.yaml: the record is the first thing written, so nothing was made;
  ///   the directory goes;
  /// - `creating`: the create never finished and its caller got no answer; undoing it (dnsmasq, bridge,
  ///   rules, files) takes nothing anyone uses: no guest can have joined a network that was never ready;
  /// - `deleting`: the user asked for it to go and no guest used it then (a guest naming it since was
  ///   refused, the network being not ready); the same removal finishes it;
  /// - `ready`: re-create a missing bridge or address (what guests' NICs attach to), adopt a dnsmasq
  ///   that still runs (found by pid file, executable and command line, so never a stranger) or start
  ///   one. Nothing of a ready network is removed here.
  func recoverNetworks() {
    dnsmasqWatch.start { [weak self] name in self?.dnsmasqEnded(name) }
    guard let entries = try? FileIO.listDirectory(layout.networks) else { return }
    networkLock.withLock { _ in
      for entry in entries.sorted() where !entry.hasPrefix(".") {
        recoverNetwork(entry)
      }
      // The tables follow the records (a store whose last network was undone above removes its own;
      // a store without networks never touches nft).
      do throws(HostError) { try applyFirewall() } catch { log.error("networks: firewall: \(error.message)") }
      for record in networkRecords() where record.phase == .ready {
        if let warning = forwardWarning([record]) { log.warning("network \(record.name): \(warning)") }
      }
    }
  }

  /// One network directory; the caller holds `networkLock`.
  private func recoverNetwork(_ entry: String) {
    let paths = layout.network(entry)
    guard FileIO.exists(paths.record) else {
      if FileIO.isDirectory(paths.dir) {
        try? FileIO.removeTree(paths.dir)
        log.info("network directory \(entry): removed (a create that never recorded anything)")
      }
      return
    }
    let record: NetworkRecord
    do { record = try NetworkRecord.read(paths.record, name: entry) } catch {
      log.error("network \(entry): \(error.message); left as it is")
      return
    }
    switch record.phase {
    case .creating, .deleting:
      do {
        try removeNetwork(record)
        log.info(
          "network \(entry): \(record.phase == .creating ? "a create that never finished, undone" : "delete finished")")
      } catch {
        log.error("network \(entry): \(error.message)")
      }
    case .ready:
      do {
        if try ensureBridge(record) { log.info("network \(entry): bridge \(record.bridge) re-created") }
        if let pid = Dnsmasq.running(paths) {
          log.info("network \(entry): dnsmasq re-adopted (pid \(pid))")
        } else {
          try startDnsmasq(record)
          log.info("network \(entry): dnsmasq started")
        }
        watchDnsmasq(entry)
      } catch {
        log.error("network \(entry): \(error.message)")
      }
    }
  }

  /// Releases the addresses of guests that do not exist: a create records its addresses before it
  /// writes guest.yaml, so a daemon killed in between leaves leases whose guest recovery then removed
  /// as half-made. Under `nicLock`, so a create under way (addresses bound, guest.yaml not yet written)
  /// never loses its own; the networks' name files are rewritten after.
  func releaseOrphanLeases() {
    let touched = nicLock.withLock { _ -> [String] in
      let known = Set(guestNames())
      var touched: [String] = []
      for network in networkRecords() where network.phase == .ready {
        guard let store = try? ipam(network), let leases = try? store.leases() else { continue }
        for lease in leases {
          guard let slash = lease.owner.lastIndex(of: "/"),
            Int(lease.owner[lease.owner.index(after: slash)...]) != nil, !known.contains(String(lease.owner[..<slash]))
          else { continue }
          do throws(NetError) {
            try store.release(owner: lease.owner)
            touched.append(network.name)
            log.info("network \(network.name): \(lease.address) released (\(lease.owner): no such guest)")
          } catch {
            log.warning("network \(network.name): releasing \(lease.owner): \(error.message)")
          }
        }
      }
      return touched
    }
    for network in Set(touched).sorted() { refreshNames(network: network) }
  }
}
