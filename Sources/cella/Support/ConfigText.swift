import CellaAPI
import CellaErrors

/// The `key: value` text `config edit` and `profile edit` show in the editor and read back (a subset
/// of YAML: one mapping of strings, `#` comments).
enum ConfigText {
  static func render(_ config: [String: String], header: String) -> String {
    var text = header.split(separator: "\n").map { "# " + $0 + "\n" }.joined()
    for key in config.keys.sorted() { text += key + ": " + quote(config[key]!) + "\n" }
    return text
  }

  /// A value as is when YAML reads it back unchanged, else double-quoted.
  static func quote(_ value: String) -> String {
    let plain = value.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        || "._/+@,=-".unicodeScalars.contains($0)
    }
    if plain && !value.isEmpty && !["true", "false", "null", "yes", "no", "~"].contains(value.lowercased())
      && value.first != "-"
    {
      return value
    }
    var out = "\""
    for ch in value.unicodeScalars {
      switch ch {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if ch.value < 0x20 {
          let hex = String(ch.value, radix: 16)
          out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        } else {
          out.unicodeScalars.append(ch)
        }
      }
    }
    return out + "\""
  }

  /// The map a text holds; an error names the file and line.
  static func parse(_ text: String, file: String) throws(APIError) -> [String: String] {
    var out = [String: String]()
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      func fail(_ why: String) -> APIError { APIError(.invalidArgument, "\(file) line \(index + 1): \(why)") }
      guard let colon = trimmed.firstIndex(of: ":") else { throw fail("expected \"key: value\"") }
      let key = String(trimmed[..<colon])
      guard !key.isEmpty, !key.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" }) else {
        throw fail("\"\(key)\" is not a key")
      }
      guard out[key] == nil else { throw fail("key \(key) given twice") }
      let rest = trimmed[trimmed.index(after: colon)...]
      guard rest.isEmpty || rest.first == " " || rest.first == "\t" else {
        throw fail("expected a space after \"\(key):\"")
      }
      out[key] = try value(rest.drop { $0 == " " || $0 == "\t" }, fail: fail)
    }
    return out
  }

  private static func value(_ text: Substring, fail: (String) -> APIError) throws(APIError) -> String {
    var chars = text.unicodeScalars.makeIterator()
    guard let first = text.unicodeScalars.first else { return "" }
    var out = String.UnicodeScalarView()
    if first == "\"" || first == "'" {
      _ = chars.next()
      var closed = false
      while let c = chars.next() {
        if c == first {
          if first == "'" {
            // '' inside single quotes is one quote.
            var peek = chars
            if peek.next() == "'" {
              chars = peek
              out.append("'")
              continue
            }
          }
          closed = true
          break
        }
        if first == "\"" && c == "\\" {
          switch chars.next() {
          case "n": out.append("\n")
          case "t": out.append("\t")
          case "\"": out.append("\"")
          case "\\": out.append("\\")
          case "x":
            guard let h = chars.next(), let l = chars.next(),
              let v = UInt32(String([Character(h), Character(l)]), radix: 16),
              let s = Unicode.Scalar(v)
            else { throw fail("bad \\x escape") }
            out.append(s)
          default: throw fail("unknown escape in a double-quoted value")
          }
          continue
        }
        out.append(c)
      }
      guard closed else { throw fail("unterminated \(first == "\"" ? "double" : "single")-quoted value") }
      var tail = String.UnicodeScalarView()
      while let c = chars.next() { tail.append(c) }
      let rest = String(tail).drop { $0 == " " || $0 == "\t" }
      guard rest.isEmpty || rest.hasPrefix("#") else { throw fail("text after the quoted value") }
      return String(out)
    }
    // A comment starts at " #" (or a tab before the #), as in YAML.
    var plain = [Character]()
    for ch in text {
      if ch == "#", let last = plain.last, last == " " || last == "\t" { break }
      plain.append(ch)
    }
    while plain.last == " " || plain.last == "\t" { plain.removeLast() }
    return String(plain)
  }
}
