import ArgumentParser
import CellaAPI

extension NetworkCommand {
  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "create", abstract: "Create a network: a bridge, NAT rules and a dnsmasq for DHCP and DNS.")
    @Argument var name: String
    @Option(help: "Its range, a CIDR (default: a free /24 in 10.0.0.0/8).")
    var subnet: String?
    @Option(help: "The bridge's address in the subnet (default: its first host).")
    var gateway: String?
    @Flag(inversion: .prefixedNo, help: "Masquerade guests' traffic to the outside with the host's address.")
    var nat = true
    @Flag(help: "Keep the network's guests from reaching each other (they still reach the gateway).")
    var isolated = false

    func run() throws {
      let info: NetworkInfo = try CLI.client.post(
        Endpoints.networks,
        CreateNetworkRequest(name: name, subnet: subnet, gateway: gateway, nat: nat, isolated: isolated))
      NetworkCommand.warn(info)
    }
  }
}
