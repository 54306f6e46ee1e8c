/// A JSON string literal for `text` (also used to quote values in one-line error messages): the
/// encoder's own escaping, so hand-built JSON lines and the encoder cannot disagree.
public func jsonQuote(_ text: String) -> String {
  var out: [UInt8] = []
  writeJSONString(text, to: &out)
  return String(decoding: out, as: UTF8.self)
}
