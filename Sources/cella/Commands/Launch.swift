import ArgumentParser
import CellaAPI

struct Launch: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "launch", abstract: "Create a guest and start it.")
  @OptionGroup var options: CreateOptions

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guests, options.request(start: true))
  }
}
