import CellaEngine
import CellaOCI
import CellaRuntimeCore
import CellaSys

enum StateCommand: Verb {
  static let name = "state"
  static let abstract = "print a container's state as JSON"
  static let arguments = "ID"
  static let flags: [FlagSpec] = []

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let state = try Lifecycle(store: global.store, log: global.logger).state(id: try id(args))
    writeOut(stateDocument(state) + "\n")
    return 0
  }
}

enum ListCommand: Verb {
  static let name = "list"
  static let abstract = "list containers"
  static let arguments = ""
  static let flags: [FlagSpec] = [
    FlagSpec("format", short: "f", value: true, "table or json"),
    FlagSpec("quiet", short: "q", "print only ids"),
  ]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    let states = Lifecycle(store: global.store, log: global.logger).list()
    if args.has("quiet") {
      writeOut(states.map { $0.id + "\n" }.joined())
      return 0
    }
    switch args.string("format") ?? "table" {
    case "json": writeOut(stateList(states) + "\n")
    case "table": writeOut(table(states))
    case let other: throw RuntimeError("--format: unknown format \"\(other)\" (use table or json)")
    }
    return 0
  }

  private static func table(_ states: [ContainerState]) -> String {
    let rows =
      [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
      + states.map { [$0.id, String($0.pid), $0.status, $0.bundle, $0.created, $0.owner] }
    var widths = [Int](repeating: 0, count: 6)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    return rows.map { row in
      row.enumerated().map { i, cell in
        i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
      }.joined() + "\n"
    }.joined()
  }
}

enum FeaturesCommand: Verb {
  static let name = "features"
  static let abstract = "print what this runtime implements, as JSON"
  static let arguments = ""
  static let flags: [FlagSpec] = []

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    writeOut(String(decoding: OCIJSON.encode(FeaturesReport.make()), as: UTF8.self))
    return 0
  }
}

enum SpecCommand: Verb {
  static let name = "spec"
  static let abstract = "write a default config.json into the bundle"
  static let arguments = ""
  static let flags: [FlagSpec] = [FlagSpec("bundle", short: "b", value: true, "bundle directory (default: current)")]

  static func run(_ args: ParsedArguments, _ global: Global) throws(RuntimeError) -> Int32 {
    if args.has("rootless") { throw RuntimeError("spec --rootless: rootless configs are not supported yet") }
    try DefaultConfig.write(bundle: args.string("bundle") ?? ".")
    return 0
  }
}

/// runc's `state` document, keys in runc's order, two-space indent.
func stateDocument(_ s: ContainerState, indent: String = "") -> String {
  var fields: [(String, String)] = [
    ("ociVersion", jsonQuote(s.ociVersion)), ("id", jsonQuote(s.id)), ("pid", String(s.pid)),
    ("status", jsonQuote(s.status)), ("bundle", jsonQuote(s.bundle)), ("rootfs", jsonQuote(s.rootfs)),
    ("created", jsonQuote(s.created)), ("owner", jsonQuote(s.owner)),
  ]
  if let annotations = s.annotations, !annotations.isEmpty {
    let inner = annotations.sorted { $0.key < $1.key }.map {
      "\(indent)    \(jsonQuote($0.key)): \(jsonQuote($0.value))"
    }
    fields.append(("annotations", "{\n" + inner.joined(separator: ",\n") + "\n\(indent)  }"))
  }
  let body = fields.map { "\(indent)  \(jsonQuote($0.0)): \($0.1)" }.joined(separator: ",\n")
  return "\(indent){\n\(body)\n\(indent)}"
}

/// `list --format json`: an array of state documents.
func stateList(_ states: [ContainerState]) -> String {
  if states.isEmpty { return "[]" }
  return "[\n" + states.map { stateDocument($0, indent: "  ") }.joined(separator: ",\n") + "\n]"
}
