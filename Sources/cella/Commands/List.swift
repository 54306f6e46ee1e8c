import ArgumentParser
import CellaAPI

struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the guests.")
  @Option(help: "table or json.")
  var format: OutputFormat = .table

  func run() throws {
    let guests: [GuestSummary] = try CLI.client.get(Endpoints.guests)
    switch format {
    case .json: try Output.json(guests)
    case .table:
      Output.table(
        ["NAME", "STATUS", "KIND", "IMAGE", "PID", "IPV4"],
        guests.map {
          [
            $0.name, $0.status.rawValue, $0.kind.rawValue, $0.image ?? "-", $0.pid.map(String.init) ?? "-",
            $0.addresses?.joined(separator: ", ") ?? "-",
          ]
        })
    }
  }
}
