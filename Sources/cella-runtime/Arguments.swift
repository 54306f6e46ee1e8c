import CellaOCI

/// One flag of a verb (or a global flag): its names, whether it takes a value, and its help line.
struct FlagSpec: Sendable {
  /// Canonical long name without dashes ("bundle").
  let name: String
  /// Optional one-letter alias ("b").
  let short: Character?
  let takesValue: Bool
  let help: String
  let hidden: Bool

  init(_ name: String, short: Character? = nil, value: Bool = false, hidden: Bool = false, _ help: String) {
    self.name = name
    self.short = short
    self.takesValue = value
    self.help = help
    self.hidden = hidden
  }
}

/// A failed parse: one line for the user.
struct UsageError: Error {
  let message: String
}

/// Flags and positionals of one invocation, by canonical flag name.
struct ParsedArguments: Sendable {
  var values: [String: [String]] = [:]
  var positionals: [String] = []
  /// Everything after the passthrough point (exec's command, ps's arguments).
  var rest: [String] = []

  func has(_ name: String) -> Bool { values[name] != nil }
  func string(_ name: String) -> String? { values[name]?.last }
  func strings(_ name: String) -> [String] { values[name] ?? [] }

  /// An integer flag in `range`, with an error naming it when the value is not a number or outside.
  func int<T: FixedWidthInteger>(_ name: String, as type: T.Type = T.self, in range: ClosedRange<T> = T.min...T.max)
    throws(UsageError) -> T?
  {
    guard let text = string(name) else { return nil }
    guard let v = T(text) else {
      throw UsageError(message: "--\(name): \"\(text)\" is not a number in \(range.lowerBound)...\(range.upperBound)")
    }
    do { return try IntegerRange.check(v, in: range, "--\(name)") } catch { throw UsageError(message: error.message) }
  }
}

/// runc-style command-line parsing: `--name value`, `--name=value`, `-n value`, `-name value` (Go's
/// single-dash long form), bool flags without values, `--` ending flags, and an optional passthrough of
/// everything after the Nth positional (for `exec ID CMD ARGS...`).
enum ArgumentParser {
  static func parse(_ args: ArraySlice<String>, flags: [FlagSpec], passthroughAfter: Int? = nil) throws(UsageError)
    -> ParsedArguments
  {
    var out = ParsedArguments()
    var i = args.startIndex
    while i < args.endIndex {
      let arg = args[i]
      i += 1
      if let n = passthroughAfter, out.positionals.count >= n {
        out.rest = Array(args[(i - 1)...])
        if out.rest.first == "--" { out.rest.removeFirst() }
        break
      }
      if arg == "--" {
        out.positionals += args[i...]
        break
      }
      guard arg.hasPrefix("-"), arg.count > 1 else {
        out.positionals.append(arg)
        continue
      }
      var name = String(arg.drop { $0 == "-" })
      var inline: String? = nil
      if let eq = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
      let spec: FlagSpec?
      if !arg.hasPrefix("--") && name.count == 1 {
        spec = flags.first { $0.short == name.first }
      } else {
        spec = flags.first { $0.name == name } ?? (name.count == 1 ? flags.first { $0.short == name.first } : nil)
      }
      guard let spec else { throw UsageError(message: "unknown flag \(arg.split(separator: "=").first ?? "")") }
      if spec.takesValue {
        if let inline {
          out.values[spec.name, default: []].append(inline)
        } else {
          guard i < args.endIndex else { throw UsageError(message: "flag --\(spec.name) needs a value") }
          out.values[spec.name, default: []].append(args[i])
          i += 1
        }
      } else {
        if let inline, !["true", "false", "1", "0"].contains(inline) {
          throw UsageError(message: "flag --\(spec.name) takes no value (got \"\(inline)\")")
        }
        if inline == "false" || inline == "0" {
          out.values.removeValue(forKey: spec.name)
        } else {
          out.values[spec.name, default: []].append("true")
        }
      }
    }
    return out
  }
}
