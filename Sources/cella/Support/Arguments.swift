import ArgumentParser
import CellaAPI
import CellaErrors

/// Parsing of the CLI's `KEY=VALUE` arguments.
enum Arguments {
  /// `KEY=VALUE` pairs as a map; `what` names the option in errors (`-c`, `config set`).
  static func keyValues(_ items: [String], what: String) throws(APIError) -> [String: String] {
    var out = [String: String]()
    for item in items {
      guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
        throw APIError(.invalidArgument, "\(what) \"\(item)\": expected KEY=VALUE")
      }
      let key = String(item[..<eq])
      guard out[key] == nil else { throw APIError(.invalidArgument, "\(what) \"\(item)\": key \(key) given twice") }
      out[key] = String(item[item.index(after: eq)...])
    }
    return out
  }

  /// `--env K=V` entries, checked for the `=`.
  static func environment(_ items: [String]) throws(APIError) -> [String] {
    for item in items where !item.contains("=") || item.hasPrefix("=") {
      throw APIError(.invalidArgument, "--env \"\(item)\": expected KEY=VALUE")
    }
    return items
  }
}

/// `--format table|json`.
enum OutputFormat: String, CaseIterable {
  case table
  case json
}

extension OutputFormat: ExpressibleByArgument {}
