import ArgumentParser
import CellaAPI

struct PortCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "port", abstract: "Publish host ports to a guest's first NIC.",
    subcommands: [Add.self, List.self, Remove.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "add", abstract: "Forward HOSTPORT of the host to GUESTPORT of the guest.")
    @Argument var name: String
    @Argument(help: "The host's port, 1-65535.") var hostPort: Int
    @Argument(help: "The guest's port, 1-65535.") var guestPort: Int
    @Option(help: "tcp or udp.") var proto = "tcp"
    @Option(help: "Only connections to this IPv4 address of the host (default: every address).")
    var address: String?

    func run() throws {
      let _: PublishedPortInfo = try CLI.client.post(
        Endpoints.ports(name),
        AddPortRequest(proto: proto, hostPort: hostPort, guestPort: guestPort, hostAddress: address))
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List a guest's published ports.")
    @Argument var name: String
    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
      let ports: [PublishedPortInfo] = try CLI.client.get(Endpoints.ports(name))
      switch format {
      case .json: try Output.json(ports)
      case .table:
        Output.table(
          ["PROTO", "HOST", "GUEST"],
          ports.map {
            [
              $0.proto, "\($0.hostAddress ?? "*"):\($0.hostPort)", "\($0.guestAddress ?? "-"):\($0.guestPort)",
            ]
          })
      }
    }
  }

  struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "remove", abstract: "Stop publishing a host port.")
    @Argument var name: String
    @Argument var hostPort: Int
    @Option(help: "tcp or udp.") var proto = "tcp"
    @Option(help: "Only the mapping on this host address (needed when the port is published on several).")
    var address: String?

    func run() throws {
      try CLI.client.delete(Endpoints.port(name, proto: proto, hostPort: hostPort, hostAddress: address))
    }
  }
}
