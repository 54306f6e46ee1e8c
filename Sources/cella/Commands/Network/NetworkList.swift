import ArgumentParser
import CellaAPI

extension NetworkCommand {
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the networks.")
    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
      let networks: [NetworkInfo] = try CLI.client.get(Endpoints.networks)
      switch format {
      case .json: try Output.json(networks)
      case .table:
        Output.table(
          ["NAME", "SUBNET", "GATEWAY", "NAT", "ISOLATED", "BRIDGE", "MEMBERS"],
          networks.map {
            [
              $0.name, $0.subnet, $0.gateway, $0.nat ? "yes" : "no", $0.isolated ? "yes" : "no", $0.bridge,
              "\($0.members.count)",
            ]
          })
      }
    }
  }
}
