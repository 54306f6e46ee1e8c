/// Decodes `config.json`; reading it from a bundle is the caller's (CellaOCI does no host I/O).
public enum SpecLoader {
  /// Decodes a config from bytes.
  public static func decode(_ bytes: [UInt8], file: String = "config.json") throws(OCIError) -> Spec {
    try OCIJSON.decode(Spec.self, from: bytes, file: file)
  }
}
