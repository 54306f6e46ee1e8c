/// How a path in config.json that may be relative (root.path, a bind source) names a host path.
public enum BundlePath {
  /// `path` if absolute, else `path` inside `bundle` (the bundle directory; empty means the working directory).
  public static func resolve(_ path: String, in bundle: String) -> String {
    if path.hasPrefix("/") || bundle.isEmpty { return path }
    return bundle.hasSuffix("/") ? bundle + path : bundle + "/" + path
  }
}
