/// Where the daemon listens and keeps its state, and the API's paths: the one place both sides read.
public enum Endpoints {
  /// The API's version prefix.
  public static let prefix = "/1.0"
  /// The default state directory (`--state-dir`, `CELLA_STATE_DIR`).
  public static let defaultStateDir = "/var/lib/cella"
  /// The default socket (`--socket`, `CELLA_SOCKET`).
  public static let defaultSocket = "/run/cella/cella.sock"
  /// The environment variable naming the state directory.
  public static let stateDirVariable = "CELLA_STATE_DIR"
  /// The environment variable naming the socket.
  public static let socketVariable = "CELLA_SOCKET"

  /// The socket path from the environment, else the default.
  public static func socket(environment: [String: String]) -> String {
    environment[socketVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultSocket
  }

  /// The state directory from the environment, else the default.
  public static func stateDir(environment: [String: String]) -> String {
    environment[stateDirVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultStateDir
  }

  public static let guests = prefix + "/guests"
  public static let images = prefix + "/images"
  public static let profiles = prefix + "/profiles"
  public static let imageBuild = images + "/build"
  public static let imageImport = images + "/import"
  public static let networks = prefix + "/networks"

  public static func guest(_ name: String) -> String { guests + "/" + escape(name) }
  /// `start`, `stop`, `restart`, `kill`, `exec`, `config`, `logs`, `console`.
  public static func guest(_ name: String, _ action: String) -> String { guest(name) + "/" + action }
  public static func image(_ name: String) -> String { images + "/" + escape(name) }
  public static func profile(_ name: String) -> String { profiles + "/" + escape(name) }
  public static func network(_ name: String) -> String { networks + "/" + escape(name) }
  /// A guest's published ports; with a protocol and host port, one of them.
  public static func ports(_ guest: String) -> String { self.guest(guest, "ports") }
  /// With `hostAddress`, only the mapping on that host address.
  public static func port(_ guest: String, proto: String, hostPort: Int, hostAddress: String? = nil) -> String {
    ports(guest) + "/" + escape(proto) + "/" + String(hostPort) + (hostAddress.map { "?address=" + escape($0) } ?? "")
  }
  public static func exec(_ id: String) -> String { prefix + "/exec/" + escape(id) }

  /// Percent-escapes a path segment so any name (even a hostile one) stays one segment.
  public static func escape(_ segment: String) -> String {
    var out = ""
    for b in segment.utf8 {
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
        out.unicodeScalars.append(Unicode.Scalar(b))
      default:
        let hex = Array("0123456789ABCDEF".utf8)
        out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
      }
    }
    return out
  }

  /// Undoes `escape`; nil for a malformed escape or bytes that are not UTF-8.
  public static func unescape(_ segment: Substring) -> String? {
    var bytes = [UInt8]()
    var it = segment.utf8.makeIterator()
    while let b = it.next() {
      if b == UInt8(ascii: "%") {
        guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
        bytes.append(hv << 4 | lv)
      } else {
        bytes.append(b)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }

  private static func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
