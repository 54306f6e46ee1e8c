import ArgumentParser
import CellaAPI
import CellaErrors
import FoundationEssentials

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

  /// A path as the daemon must see it: a relative one is taken from the CLI's working directory.
  static func absolute(_ path: String) -> String {
    if path.hasPrefix("/") || path.isEmpty { return path }
    let cwd = FileManager.default.currentDirectoryPath
    return (cwd == "/" ? "" : cwd) + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
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
