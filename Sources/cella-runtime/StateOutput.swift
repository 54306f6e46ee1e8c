import CellaOCI
import CellaRuntime

/// runc's `state` document, keys in runc's order, two-space indent.
func stateDocument(_ s: ContainerState, indent: String = "") -> String {
  var fields: [(String, String)] = [
    ("ociVersion", jsonQuote(s.ociVersion)), ("id", jsonQuote(s.id)), ("pid", String(s.pid)),
    ("status", jsonQuote(s.status)), ("bundle", jsonQuote(s.bundle)), ("rootfs", jsonQuote(s.rootfs)),
    ("created", jsonQuote(s.created)), ("owner", jsonQuote(s.owner)),
  ]
  if let annotations = s.annotations, !annotations.isEmpty {
    let inner = annotations.sorted { $0.key < $1.key }.map {
      "\(indent)    \(jsonQuote($0.key)): \(jsonQuote($0.value))"
    }
    fields.append(("annotations", "{\n" + inner.joined(separator: ",\n") + "\n\(indent)  }"))
  }
  let body = fields.map { "\(indent)  \(jsonQuote($0.0)): \($0.1)" }.joined(separator: ",\n")
  return "\(indent){\n\(body)\n\(indent)}"
}

/// `list --format json`: an array of state documents.
func stateList(_ states: [ContainerState]) -> String {
  if states.isEmpty { return "[]" }
  return "[\n" + states.map { stateDocument($0, indent: "  ") }.joined(separator: ",\n") + "\n]"
}
