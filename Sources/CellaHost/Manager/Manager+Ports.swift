import CellaAPI
import CellaNet

// Guest NICs and published ports: made by the NIC work of issue 10 (stubs until then).
extension Manager {
  public func listPorts(_ guest: String) throws -> [PublishedPortInfo] { [] }
  public func addPort(_ guest: String, _ request: AddPortRequest) throws -> PublishedPortInfo {
    throw HostError(.unsupported, "published ports are not supported yet")
  }
  public func removePort(_ guest: String, proto: String, hostPort: Int) throws {
    throw HostError(.notFound, "guest \"\(guest)\" has no published port \(proto)/\(hostPort)")
  }

  /// Every guest NIC's anti-spoofing entry (running guests) and every published port, for `applyFirewall`.
  func guestFirewallEntries() -> (ports: [NftModel.GuestPort], published: [NftModel.PublishedPort]) { ([], []) }
}
