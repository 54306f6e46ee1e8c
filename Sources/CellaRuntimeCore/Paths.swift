import CellaSys
import Glibc

/// An absolute, lexically clean form of `path` (relative to the current directory).
public func absolutePath(_ path: String) -> String {
  var full = path
  if !path.hasPrefix("/") {
    var buf = [CChar](repeating: 0, count: 4096)
    let cwd =
      getcwd(&buf, buf.count) != nil
      ? String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/"
    full = cwd + "/" + path
  }
  return "/" + InRoot.components(full).joined(separator: "/")
}
