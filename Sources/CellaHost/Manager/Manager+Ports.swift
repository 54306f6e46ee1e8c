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

  public func removePort(_ guest: String, proto: String, hostPort: Int) throws {
    _ = try loadRecord(guest)
    let paths = layout.guest(guest)
    let lock = try GuestLock(paths)
    var record = try loadRecord(guest)
    let kept = record.ports.filter { !($0.proto.rawValue == proto && Int($0.hostPort) == hostPort) }
    guard kept.count != record.ports.count else {
      throw HostError(.notFound, "guest \"\(guest)\" has no published port \(proto)/\(hostPort)")
    }
    record.ports = kept
    try record.write(to: paths.record)
    _ = consume lock
    // The record is the truth: a firewall that cannot be written now is rewritten by the next change.
    try applyFirewall()
    log.info("guest \(guest): unpublished \(proto)/\(hostPort)")
  }

  /// Where a guest's published ports go: its running first NIC's address, else the one IPAM holds.
  func firstTarget(_ record: GuestRecord) -> IPv4Address? {
    let state = (try? GuestState.load(layout.guest(record.name))) ?? GuestState()
    if state.status != .stopped, let first = state.nics?.first, let a = IPv4Address(first.ipv4) { return a }
    return firstAddress(record)
  }
}
