import CellaOCI
import CellaSys
import Glibc

/// The one way the runtime reads a document it is handed: a bundle's config.json, exec's `--process`,
/// update's `--resources` ("-" is stdin). CellaOCI decodes; reading the host is done here.
public enum InputFile {
  /// Reads `path` whole. Errors are one line: `[flag ]path: reason`, plus `missingHint` when it does not exist.
  public static func read(_ path: String, flag: String? = nil, missingHint: String? = nil) throws(RuntimeError)
    -> [UInt8]
  {
    do { return path == "-" ? try FileIO.readAll(fd: 0, path: "stdin") : try FileIO.read(path) } catch {
      let name = [flag, path == "-" ? "stdin" : path].compactMap { $0 }.joined(separator: " ")
      if let missingHint, error.errno == ENOENT {
        throw RuntimeError("\(name): no such file (\(missingHint))", kind: error.kind)
      }
      throw RuntimeError("\(name): \(error.reason)", kind: error.kind)
    }
  }

  /// Reads and decodes `path` with CellaOCI's strict codec; errors name the file (or "stdin") and the field.
  public static func decode<T: Decodable>(_ type: T.Type, from path: String, flag: String? = nil) throws(RuntimeError)
    -> T
  {
    let bytes = try read(path, flag: flag)
    do { return try OCIJSON.decode(type, from: bytes, file: path == "-" ? "stdin" : path) } catch {
      throw RuntimeError(error)
    }
  }

  /// A bundle's config.json, undecoded (create decides on the bytes, so the fuzz target can feed its own).
  public static func config(bundle: String) throws(RuntimeError) -> [UInt8] {
    try read(BundlePath.resolve("config.json", in: bundle.isEmpty ? "." : bundle), missingHint: "is --bundle right?")
  }
}
