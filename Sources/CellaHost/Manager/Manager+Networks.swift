import CellaAPI
import CellaNet
import CellaSys

// Networks: made by the networks work of issue 10 (stubs until then).
extension Manager {
  public func listNetworks() throws -> [NetworkInfo] { [] }
  public func network(_ name: String) throws -> NetworkInfo {
    throw HostError(.notFound, "network \"\(name)\" does not exist")
  }
  public func createNetwork(_ request: CreateNetworkRequest) throws -> NetworkInfo {
    throw HostError(.unsupported, "networks are not supported yet")
  }
  public func deleteNetwork(_ name: String) throws {
    throw HostError(.notFound, "network \"\(name)\" does not exist")
  }

  /// The record of a ready network, for guests joining it.
  func networkRecord(_ name: String) throws(HostError) -> NetworkRecord {
    let paths = layout.network(name)
    guard FileIO.exists(paths.record) else { throw HostError(.notFound, "network \"\(name)\" does not exist") }
    let record = try NetworkRecord.read(paths.record)
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
  func applyFirewall() throws(HostError) {}

  /// Rewrites a network's dnsmasq lease and name files from its IPAM leases and tells dnsmasq (SIGHUP).
  func refreshNames(network: String) {}
}
