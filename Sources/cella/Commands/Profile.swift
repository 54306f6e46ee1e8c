import ArgumentParser
import CellaAPI

struct ProfileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile", abstract: "Manage profiles: named config keys guests take in order.",
    subcommands: [List.self, Show.self, Create.self, Set.self, Unset.self, Edit.self, Delete.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the profiles.")
    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func run() throws {
      let profiles: [ProfileInfo] = try CLI.client.get(Endpoints.profiles)
      switch format {
      case .json: try Output.json(profiles)
      case .table:
        Output.table(
          ["NAME", "KEYS", "USED BY", "DESCRIPTION"],
          profiles.map { ["\($0.name)", "\($0.config.count)", "\($0.usedBy.count)", $0.description ?? ""] })
      }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show", abstract: "Print a profile's keys.")
    @Argument var name: String
    @Option(help: "table (text) or json.")
    var format: OutputFormat = .table

    func run() throws {
      let profile: ProfileInfo = try CLI.client.get(Endpoints.profile(name))
      if format == .json { return try Output.json(profile) }
      if let description = profile.description { print("# " + description) }
      print(ConfigText.render(profile.config, header: ""), terminator: "")
    }
  }

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "create", abstract: "Create a profile.")
    @Argument var name: String
    @Option(help: "A line saying what it is for.")
    var description: String?
    @Option(name: .customShort("c"), help: "A config key, KEY=VALUE; repeatable.")
    var config: [String] = []

    func run() throws {
      let keys = try Arguments.keyValues(config, what: "-c")
      let _: ProfileInfo = try CLI.client.post(
        Endpoints.profiles,
        CreateProfileRequest(name: name, description: description, config: keys.isEmpty ? nil : keys))
    }
  }

  struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: "Set keys: KEY=VALUE...")
    @Argument var name: String
    @Argument var pairs: [String]

    func run() throws {
      let keys = try Arguments.keyValues(pairs, what: "profile set")
      let _: ProfileInfo = try CLI.client.patch(Endpoints.profile(name), ConfigPatch(set: keys))
    }
  }

  struct Unset: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "unset", abstract: "Remove keys: KEY...")
    @Argument var name: String
    @Argument var keys: [String]

    func run() throws {
      let _: ProfileInfo = try CLI.client.patch(Endpoints.profile(name), ConfigPatch(unset: keys))
    }
  }

  struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "edit", abstract: "Edit a profile's keys in $EDITOR.")
    @Argument var name: String

    func run() throws {
      let client = CLI.client
      let current: ProfileInfo = try client.get(Endpoints.profile(name))
      guard let edited = try Editor.edit(current.config, what: "profile \(name)") else { return }
      let _: ProfileInfo = try client.put(Endpoints.profile(name), ConfigReplace(config: edited))
    }
  }

  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete a profile no guest uses.")
    @Argument var name: String

    func run() throws { try CLI.client.delete(Endpoints.profile(name)) }
  }
}
