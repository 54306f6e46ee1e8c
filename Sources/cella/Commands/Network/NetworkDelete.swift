import ArgumentParser
import CellaAPI

extension NetworkCommand {
  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete a network no guest names; its bridge, rules and dnsmasq go with it.")
    @Argument var name: String

    func run() throws { try CLI.client.delete(Endpoints.network(name)) }
  }
}
