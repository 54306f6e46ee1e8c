import ArgumentParser
import CellaAPI

struct Delete: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete", abstract: "Delete a guest and its files.")
  @Argument var name: String
  @Flag(help: "Stop it first if it runs.")
  var force = false

  func run() throws {
    try CLI.client.delete(Endpoints.guest(name) + (force ? "?force=true" : ""))
  }
}
