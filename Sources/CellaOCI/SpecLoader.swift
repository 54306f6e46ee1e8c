import FoundationEssentials

/// Reads `config.json` from a bundle.
public enum SpecLoader {
  /// Loads `<bundle>/config.json`. Errors are one line naming the file.
  public static func load(bundle: String) throws(OCIError) -> Spec {
    let path = HostFiles.resolve("config.json", against: bundle.isEmpty ? "." : bundle)
    let bytes: [UInt8]
    do {
      bytes = try HostFiles.readAll(path)
    } catch {
      if error.isNotFound {
        throw OCIError("\(path): no such file (is --bundle right?)")
      }
      throw OCIError("\(path): cannot read: \(error.text)")
    }
    return try decode(bytes, file: "config.json")
  }

  /// Decodes a config from bytes.
  public static func decode(_ bytes: [UInt8], file: String = "config.json") throws(OCIError) -> Spec {
    try OCIJSON.decode(Spec.self, from: bytes, file: file)
  }

  /// Decodes a config from data.
  public static func decode(_ data: Data, file: String = "config.json") throws(OCIError) -> Spec {
    try OCIJSON.decode(Spec.self, from: [UInt8](data), file: file)
  }
}
