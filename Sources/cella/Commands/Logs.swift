import ArgumentParser
import CellaAPI

struct Logs: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "logs", abstract: "Print a guest's console history.")
  @Argument var name: String
  @Flag(help: "Keep printing the console until the guest stops (or Ctrl-C).")
  var follow = false

  func run() throws {
    let client = CLI.client
    guard follow else {
      return Output.write(try client.call("GET", Endpoints.guest(name, "logs")).body)
    }
    let stream = try client.upgrade(Endpoints.guest(name, "console") + "?history=true&readonly=true")
    _ = try StreamSession(forwardStdin: false, terminal: false, detachable: false).run(stream)
  }
}
