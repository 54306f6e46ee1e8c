import ArgumentParser
import CellaAPI

/// What `create` and `launch` share.
struct CreateOptions: ParsableArguments {
  @Argument(help: "The guest's name (a DNS label).")
  var name: String
  @Option(help: "The image its root filesystem comes from.")
  var image: String
  @Option(name: .customLong("profile"), help: "A profile to apply (in order, after default); repeatable.")
  var profiles: [String] = []
  @Option(name: .customShort("c"), help: "A config key, KEY=VALUE; repeatable.")
  var config: [String] = []
  @Argument(parsing: .postTerminator, help: "The guest's command (after --), instead of the image's.")
  var command: [String] = []

  func request(start: Bool) throws -> CreateGuestRequest {
    let keys = try Arguments.keyValues(config, what: "-c")
    return CreateGuestRequest(
      name: name, image: image, profiles: profiles.isEmpty ? nil : profiles, config: keys.isEmpty ? nil : keys,
      command: command.isEmpty ? nil : command, start: start ? true : nil)
  }
}

struct Create: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create", abstract: "Create a guest (stopped).")
  @OptionGroup var options: CreateOptions

  func run() throws {
    let _: GuestInfo = try CLI.client.post(Endpoints.guests, options.request(start: false))
  }
}
