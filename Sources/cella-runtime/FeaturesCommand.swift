import ArgumentParser
import CellaRuntime

struct FeaturesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "features", abstract: "Print what this runtime implements, as JSON.")

  @OptionGroup var global: GlobalOptions

  func run() throws {
    try global.perform { () throws(RuntimeError) in print(try prettyJSON(FeaturesReport.make())) }
  }
}
