import ArgumentParser
import CellaAPI

struct Restart: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "restart", abstract: "Stop a guest (if running) and start it again.")
  @Argument var name: String
  @OptionGroup var options: StopOptions

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guest(name, "restart"), options.request)
  }
}
