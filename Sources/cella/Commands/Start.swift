import ArgumentParser
import CellaAPI

struct Start: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start", abstract: "Start a guest; returns once it runs.")
  @Argument var name: String

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guest(name, "start"), Optional<StopRequest>.none)
  }
}
