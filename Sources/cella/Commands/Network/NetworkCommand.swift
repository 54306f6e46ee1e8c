import ArgumentParser
import CellaAPI

struct NetworkCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "network", abstract: "Manage networks: bridges with NAT, DHCP and DNS that guests join.",
    subcommands: [Create.self, List.self, Show.self, Delete.self])

  /// The host-side warning a network carries (e.g. Docker's FORWARD DROP), on stderr so scripts reading
  /// stdout are not disturbed.
  static func warn(_ info: NetworkInfo) {
    guard let warning = info.warning else { return }
    Output.write(Array("cella: warning: network \(info.name): \(warning)\n".utf8), to: 2)
  }
}
