import ArgumentParser
import CellaAPI

extension NetworkCommand {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show", abstract: "Show a network: its range, bridge, dnsmasq and members.")
    @Argument var name: String
    @Option(help: "table (text) or json.")
    var format: OutputFormat = .table

    func run() throws {
      let info: NetworkInfo = try CLI.client.get(Endpoints.network(name))
      if format == .json { return try Output.json(info) }
      var lines: [(String, String)] = [
        ("Name", info.name), ("Subnet", info.subnet), ("Gateway", info.gateway), ("NAT", info.nat ? "yes" : "no"),
        ("Isolated", info.isolated ? "yes" : "no"), ("Bridge", info.bridge),
        ("dnsmasq", info.dnsmasqPID.map { "pid \($0)" } ?? "not running"), ("Created", info.created),
      ]
      if let warning = info.warning { lines.append(("Warning", warning)) }
      let width = lines.map(\.0.count).max() ?? 0
      for (key, value) in lines { print(key + ":" + String(repeating: " ", count: width - key.count + 1) + value) }
      print("Members:")
      Output.table(
        ["  GUEST", "NIC", "IPV4", "MAC"],
        info.members.map { ["  " + $0.guest, "\($0.nic)", $0.ipv4, $0.mac.isEmpty ? "-" : $0.mac] })
    }
  }
}
