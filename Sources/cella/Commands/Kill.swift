import ArgumentParser
import CellaAPI

struct Kill: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kill", abstract: "Send a signal to a guest's init (default SIGKILL).")
  @Argument var name: String
  @Option(help: "A signal name (TERM, SIGUSR1) or number.")
  var signal: String?

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guest(name, "kill"), KillRequest(signal: signal))
  }
}
