/// The host's apt sources, read for the Debian mirror a debian image is built from.
enum AptSources {
  /// Where apt reads its sources: the main file, then the drop-in directory's files by name.
  static let mainFile = "/etc/apt/sources.list"
  static let directory = "/etc/apt/sources.list.d"

  /// The first http(s) `deb` URI that is a Debian archive (not its security archive), or nil.
  /// `files` are (file name, text) in the order apt reads them; `.sources` files are deb822.
  static func firstMirror(_ files: [(name: String, text: String)]) -> String? {
    for file in files {
      let uris = file.name.hasSuffix(".sources") ? deb822URIs(file.text) : oneLineURIs(file.text)
      if let hit = uris.first(where: isMirror) { return hit }
    }
    return nil
  }

  static func isMirror(_ uri: String) -> Bool {
    (uri.hasPrefix("http://") || uri.hasPrefix("https://")) && !uri.contains("security")
  }

  /// `deb [options] URI suite components` lines.
  static func oneLineURIs(_ text: String) -> [String] {
    var out: [String] = []
    for raw in text.split(separator: "\n") {
      var line = Substring(raw)
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      guard words.first == "deb" else { continue }
      words.removeFirst()
      if words.first?.hasPrefix("[") == true {
        while let w = words.first {
          words.removeFirst()
          if w.hasSuffix("]") { break }
        }
      }
      if let uri = words.first { out.append(uri) }
    }
    return out
  }

  /// The URIs of enabled `Types: deb` stanzas of a deb822 file.
  static func deb822URIs(_ text: String) -> [String] {
    var out: [String] = []
    var fields: [String: String] = [:]
    var last: String?
    func flush() {
      let types = (fields["types"] ?? "").split(separator: " ").map(String.init)
      if types.contains("deb") && (fields["enabled"] ?? "yes").lowercased() != "no" {
        out += (fields["uris"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      }
      fields = [:]
      last = nil
    }
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = String(raw)
      if line.hasPrefix("#") { continue }
      if line.trimmingCharacters(in: " \t").isEmpty {
        flush()
        continue
      }
      if line.first == " " || line.first == "\t" {
        if let key = last { fields[key, default: ""] += " " + line.trimmingCharacters(in: " \t") }
        continue
      }
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].lowercased()
      fields[key] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
      last = key
    }
    flush()
    return out
  }
}
