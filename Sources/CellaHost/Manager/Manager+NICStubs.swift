import CellaNet

// Stand-ins for what the NIC work of issue 10 provides (Manager+Ports.swift there); delete this file
// when merging it.
extension Manager {
  /// The MAC of NIC `index` of `guest`, nil when it has no such NIC.
  func nicMAC(guest: String, index: Int) -> MACAddress? {
    guard let record = try? loadRecord(guest), let map = try? effectiveMap(of: record),
      map["nic.\(index).network"] != nil
    else { return nil }
    if let text = map["nic.\(index).mac"], let mac = MACAddress(text) { return mac }
    return MACAddress.stableDefault(name: guest, nic: index)
  }

  /// The guests whose effective config (own keys or through profiles) names `network` in a `nic.N.network` key.
  func guestsUsing(network: String) -> [String] {
    guestNames().filter { name in
      guard let record = try? loadRecord(name), let map = try? effectiveMap(of: record) else { return false }
      return map.contains { key, value in
        let parts = key.split(separator: ".")
        return parts.count == 3 && parts[0] == "nic" && Int(parts[1]) != nil && parts[2] == "network"
          && value == network
      }
    }
  }
}
