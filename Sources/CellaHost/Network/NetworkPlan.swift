import CellaAPI
import CellaNet

/// What a new network will be, checked against the store's other networks and the host's routes
/// before anything is recorded or made.
struct NetworkPlan: Equatable {
  var subnet: IPv4Subnet
  var gateway: IPv4Address
  var bridge: String

  /// Checks `request` (its name checked already) against `others` (every network record, whatever its
  /// phase: a half-made one still holds its subnet and bridge), `routes` (the host's) and `links` (the
  /// names of the host's links); one line naming the field for any problem.
  static func make(
    _ request: CreateNetworkRequest, others: [NetworkRecord], routes: [IPv4Route], links: Set<String>
  ) throws(HostError) -> NetworkPlan {
    let subnet: IPv4Subnet
    if let text = request.subnet {
      subnet = try net { () throws(NetError) in try IPv4Subnet.parseGuestNetwork(text) }
      if let other = others.first(where: { $0.subnet.overlaps(subnet) }) {
        throw HostError(.alreadyExists, "subnet \(subnet): overlaps network \"\(other.name)\" (\(other.subnet))")
      }
      // Routes through cella's own bridges are the networks above; any other overlap would make
      // the host send one range two ways.
      let ours = Set(others.map(\.bridge))
      if let route = routes.first(where: {
        $0.destination.prefixLength > 0 && !ours.contains($0.interface) && $0.destination.overlaps(subnet)
      }) {
        throw HostError(
          .alreadyExists,
          "subnet \(subnet): overlaps the host's route to \(route.destination) on \(route.interface); choose another subnet"
        )
      }
    } else {
      if request.gateway != nil {
        throw HostError(.invalidArgument, "gateway: give the subnet it belongs to as well (--subnet)")
      }
      subnet = try net { () throws(NetError) in try SubnetPicker.pick(routes: routes, existing: others.map(\.subnet)) }
    }
    var gateway = subnet.gateway
    if let text = request.gateway {
      gateway = try net { () throws(NetError) in
        let g = try IPv4Address.parse(text, what: "gateway")
        try subnet.checkGateway(g)
        return g
      }
    }
    let bridge = BridgeName.derive(network: request.name, taken: links.union(others.map(\.bridge)))
    return NetworkPlan(subnet: subnet, gateway: gateway, bridge: bridge)
  }

  private static func net<T>(_ body: () throws(NetError) -> T) throws(HostError) -> T {
    do { return try body() } catch { throw HostError("", error) }
  }
}
