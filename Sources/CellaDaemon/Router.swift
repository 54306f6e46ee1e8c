import CellaAPI
import NIOHTTP1

/// Finds the route of a request and decodes its path parameters and query.
struct Router: Sendable {
  let routes: [Route]

  /// The route and the request it sees, or the error to answer with (404, 405, 400).
  func resolve(method: HTTPMethod, uri: String, body: [UInt8]) throws(DaemonError) -> (Route, APIRequest) {
    let (rawPath, rawQuery) = Router.split(uri)
    let segments = rawPath.split(separator: "/", omittingEmptySubsequences: true)
    var decoded = [String]()
    for segment in segments {
      guard let value = Endpoints.unescape(segment) else {
        throw DaemonError(.invalidArgument, "path segment \"\(segment)\": malformed percent-escape")
      }
      decoded.append(value)
    }
    let matching = routes.filter { Router.matches($0.pattern, decoded) }
    guard !matching.isEmpty else {
      throw DaemonError(.notFound, "no such API path: \(rawPath)")
    }
    // A literal segment wins over a parameter: `POST /1.0/images/build` builds, `GET` of it shows
    // the image named "build".
    let candidates = matching.filter { $0.method == method }.sorted {
      Router.literalCount($0.pattern) > Router.literalCount($1.pattern)
    }
    guard let route = candidates.first else {
      let allowed = Set(matching.map { $0.method.rawValue }).sorted().joined(separator: ", ")
      throw DaemonError(
        .invalidArgument, "method \(method.rawValue) not allowed on \(rawPath) (allowed: \(allowed))", status: 405)
    }
    var params = [String]()
    for (segment, value) in zip(route.pattern, decoded) where segment == .parameter {
      params.append(value)
    }
    let query = try Router.parseQuery(rawQuery, allowed: route.query)
    return (route, APIRequest(method: method, params: params, query: query, body: body))
  }

  static func split(_ uri: String) -> (Substring, Substring) {
    guard let q = uri.firstIndex(of: "?") else { return (uri[...], "") }
    return (uri[..<q], uri[uri.index(after: q)...])
  }

  static func matches(_ pattern: [Route.Segment], _ segments: [String]) -> Bool {
    guard pattern.count == segments.count else { return false }
    for (p, s) in zip(pattern, segments) {
      if case .literal(let word) = p, word != s { return false }
    }
    return true
  }

  static func literalCount(_ pattern: [Route.Segment]) -> Int {
    pattern.filter { $0 != .parameter }.count
  }

  static func parseQuery(_ raw: Substring, allowed: Set<String>) throws(DaemonError) -> [String: String] {
    var out = [String: String]()
    for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard let key = Endpoints.unescape(parts[0]),
        let value = parts.count > 1 ? Endpoints.unescape(parts[1]) : ""
      else {
        throw DaemonError(.invalidArgument, "query \"\(pair)\": malformed percent-escape")
      }
      guard allowed.contains(key) else {
        throw DaemonError(.invalidArgument, "unknown query parameter \"\(key)\"")
      }
      out[key] = value
    }
    return out
  }
}

extension APIRequest {
  /// A boolean query parameter (`true`/`false`/`1`/`0`), `false` when absent.
  func flag(_ key: String) throws(DaemonError) -> Bool {
    switch query[key] {
    case nil, "false", "0": return false
    case "true", "1", "": return true
    case let value?: throw DaemonError(.invalidArgument, "query \"\(key)\": expected true or false, not \"\(value)\"")
    }
  }
}
