import CellaAPI
import CellaNet

// Published ports: kept in guest.yaml's `ports` list, forwarded by cella's nft tables (DNAT) to the
// guest's first NIC.
extension Manager {
  public func listPorts(_ guest: String) throws -> [PublishedPortInfo] {
    let record = try loadRecord(guest)
    let target = firstTarget(record)
    return record.ports.map { $0.info(guestAddress: target) }
  }

  public func addPort(_ guest: String, _ request: AddPortRequest) throws -> PublishedPortInfo {
    let port: PortMapping
    do { port = try PortMapping(request) } catch { throw HostError("guest \"\(guest)\"", error) }
    _ = try loadRecord(guest)
    // One host port, one guest: the check across the store and the write happen under one lock.
    let record = try FileLock.withLock(layout.portsLock) { () throws(HostError) -> GuestRecord in
      let paths = layout.guest(guest)
      let lock = try GuestLock(paths)
      var record = try loadRecord(guest)
      guard try !effectiveConfig(of: record).nics.isEmpty else {
        throw HostError(
          .invalidState, "guest \"\(guest)\" has no NIC: set nic.0.network before publishing a port to it")
      }
      for other in guestNames() {
        guard let r = other == guest ? record : try? loadRecord(other),
          let taken = r.ports.first(where: { $0.clashes(with: port) })
        else { continue }
        throw HostError(
          .alreadyExists, "host port \(port.hostSide) is published already, by guest \"\(other)\" (\(taken))")
      }
      let before = record
      record.ports.append(port)
      try record.write(to: paths.record)
      do throws(HostError) { try applyFirewall() } catch {
        try? before.write(to: paths.record)
        refreshFirewall("guest \(guest): port \(port) taken back")
        throw HostError("guest \"\(guest)\": port \(port)", error)
      }
      _ = consume lock
      return record
    }
    log.info("guest \(guest): published \(port)")
    return port.info(guestAddress: firstTarget(record))
  }

  public func removePort(_ guest: String, proto: String, hostPort: Int, hostAddress: String?) throws {
    _ = try loadRecord(guest)
    var address: IPv4Address?
    if let text = hostAddress {
      guard let a = IPv4Address(text) else {
        throw HostError(.invalidArgument, "--address: \(ConfigValues.quote(text)) is not an IPv4 address")
      }
      address = a
    }
    // Under the lock port add holds, so the firewall written is never another change's half.
    try FileLock.withLock(layout.portsLock) { () throws(HostError) in
      let paths = layout.guest(guest)
      let lock = try GuestLock(paths)
      var record = try loadRecord(guest)
      let matching = record.ports.filter {
        $0.proto.rawValue == proto && Int($0.hostPort) == hostPort && (address == nil || $0.hostAddress == address)
      }
      let named = "\(proto)/\(address.map { "\($0):" } ?? "")\(hostPort)"
      guard !matching.isEmpty else {
        throw HostError(.notFound, "guest \"\(guest)\" has no published port \(named)")
      }
      if matching.count > 1 {
        throw HostError(
          .invalidArgument,
          "guest \"\(guest)\": \(named) is published on \(matching.map { $0.hostSide }.joined(separator: ", ")): "
            + "name one with --address")
      }
      let before = record
      record.ports.removeAll { $0 == matching[0] }
      try record.write(to: paths.record)
      do throws(HostError) { try applyFirewall() } catch {
        try? before.write(to: paths.record)
        refreshFirewall("guest \(guest): port \(matching[0]) kept")
        throw HostError("guest \"\(guest)\": port \(matching[0])", error)
      }
      _ = consume lock
      log.info("guest \(guest): unpublished \(matching[0])")
    }
  }

  /// Where a guest's published ports go: its running first NIC's address, else the one IPAM holds.
  func firstTarget(_ record: GuestRecord) -> IPv4Address? {
    let state = (try? GuestState.load(layout.guest(record.name))) ?? GuestState()
    if state.status != .stopped, let first = state.nics?.first, let a = IPv4Address(first.ipv4) { return a }
    return firstAddress(record)
  }
}
