import ArgumentParser
import CellaAPI

struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config", abstract: "Show or change a guest's config keys.",
    subcommands: [Show.self, Set.self, Unset.self, Edit.self])

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show", abstract: "Print the guest's own keys (or those in effect).")
    @Argument var name: String
    @Flag(help: "The keys in effect: default profile, the guest's profiles, its own keys.")
    var effective = false

    func run() throws {
      let config: GuestConfig = try CLI.client.get(Endpoints.guest(name, "config"))
      print(ConfigText.render(effective ? config.effectiveConfig : config.config, header: ""), terminator: "")
    }
  }

  struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: "Set keys: KEY=VALUE...")
    @Argument var name: String
    @Argument var pairs: [String]

    func run() throws {
      let keys = try Arguments.keyValues(pairs, what: "config set")
      let _: GuestConfig = try CLI.client.patch(Endpoints.guest(name, "config"), ConfigPatch(set: keys))
    }
  }

  struct Unset: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "unset", abstract: "Remove keys: KEY...")
    @Argument var name: String
    @Argument var keys: [String]

    func run() throws {
      let _: GuestConfig = try CLI.client.patch(Endpoints.guest(name, "config"), ConfigPatch(unset: keys))
    }
  }

  struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "edit", abstract: "Edit the guest's own keys in $EDITOR.")
    @Argument var name: String

    func run() throws {
      let client = CLI.client
      let path = Endpoints.guest(name, "config")
      let current: GuestConfig = try client.get(path)
      guard let edited = try Editor.edit(current.config, what: "guest \(name)") else { return }
      let _: GuestConfig = try client.put(path, ConfigReplace(config: edited))
    }
  }
}
