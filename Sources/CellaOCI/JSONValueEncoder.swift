/// An Encoder that keeps struct field order (JSONEncoder on Linux does not)
/// and writes Go-style pretty JSON: two-space indent, `"key": value`,
/// slashes unescaped. Nil optionals are left out.
struct JSONValueEncoder {
  static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
    let root = _EncNode()
    try value.encode(to: _JSONEncoder(node: root, codingPath: []))
    var out: [UInt8] = []
    out.reserveCapacity(1024)
    root.write(to: &out, pretty: pretty, indent: 0)
    return out
  }
}

private final class _EncNode {
  enum Kind {
    case unset
    case scalar(String)
    case object(keys: [String], values: [String: _EncNode])
    case array([_EncNode])
  }

  var kind: Kind = .unset

  init() {}

  init(scalar: String) {
    kind = .scalar(scalar)
  }

  func makeObject() {
    if case .object = kind { return }
    kind = .object(keys: [], values: [:])
  }

  func makeArray() {
    if case .array = kind { return }
    kind = .array([])
  }

  func set(_ key: String, _ child: _EncNode) {
    makeObject()
    guard case .object(var keys, var values) = kind else { return }
    kind = .unset
    if values[key] == nil { keys.append(key) }
    values[key] = child
    kind = .object(keys: keys, values: values)
  }

  func append(_ child: _EncNode) {
    makeArray()
    guard case .array(var items) = kind else { return }
    kind = .unset
    items.append(child)
    kind = .array(items)
  }

  func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
    switch kind {
    case .unset:
      out.append(contentsOf: Array("{}".utf8))
    case .scalar(let text):
      out.append(contentsOf: Array(text.utf8))
    case .array(let items):
      if items.isEmpty {
        out.append(contentsOf: Array("[]".utf8))
        return
      }
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(&out, pretty: pretty, indent: indent + 1)
        item.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      newline(&out, pretty: pretty, indent: indent)
      out.append(UInt8(ascii: "]"))
    case .object(let keys, let values):
      if keys.isEmpty {
        out.append(contentsOf: Array("{}".utf8))
        return
      }
      out.append(UInt8(ascii: "{"))
      for (i, key) in keys.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(&out, pretty: pretty, indent: indent + 1)
        writeJSONString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        if pretty { out.append(UInt8(ascii: " ")) }
        values[key]!.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      newline(&out, pretty: pretty, indent: indent)
      out.append(UInt8(ascii: "}"))
    }
  }

  private func newline(_ out: inout [UInt8], pretty: Bool, indent: Int) {
    guard pretty else { return }
    out.append(UInt8(ascii: "\n"))
    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
  }
}

func writeJSONString(_ s: String, to out: inout [UInt8]) {
  let hex = Array("0123456789abcdef".utf8)
  out.append(UInt8(ascii: "\""))
  for b in s.utf8 {
    switch b {
    case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
    case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
    case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
    case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
    case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
    case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
    case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
    // DEL is legal JSON but would reach a terminal raw inside an error line.
    case 0x00..<0x20, 0x7F:
      out.append(contentsOf: Array("\\u00".utf8))
      out.append(hex[Int(b >> 4)])
      out.append(hex[Int(b & 0xF)])
    default: out.append(b)
    }
  }
  out.append(UInt8(ascii: "\""))
}

private func number(_ d: Double) throws -> String {
  guard d.isFinite else {
    throw EncodingError.invalidValue(d, .init(codingPath: [], debugDescription: "JSON cannot hold \(d)"))
  }
  if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
  return "\(d)"
}

private final class _JSONEncoder: Encoder {
  let node: _EncNode
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(node: _EncNode, codingPath: [any CodingKey]) {
    self.node = node
    self.codingPath = codingPath
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    node.makeObject()
    return KeyedEncodingContainer(_KeyedEnc<Key>(node: node, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    node.makeArray()
    return _UnkeyedEnc(node: node, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    _SingleEnc(node: node, codingPath: codingPath)
  }
}

private func encodeChild<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> _EncNode {
  let child = _EncNode()
  // Dictionaries iterate in random order; write their keys sorted so the
  // output is stable.
  if let dict = value as? [String: any Encodable] {
    child.makeObject()
    for key in dict.keys.sorted() {
      child.set(key, try encodeChild(dict[key]!, path: path + [JSONStringKey(key)]))
    }
    return child
  }
  try value.encode(to: _JSONEncoder(node: child, codingPath: path))
  return child
}

private struct _KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: _EncNode
  let codingPath: [any CodingKey]

  private func put(_ key: Key, _ text: String) { node.set(key.stringValue, _EncNode(scalar: text)) }

  mutating func encodeNil(forKey key: Key) throws { put(key, "null") }
  mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, value ? "true" : "false") }
  mutating func encode(_ value: String, forKey key: Key) throws { put(key, jsonQuote(value)) }
  mutating func encode(_ value: Double, forKey key: Key) throws { put(key, try number(value)) }
  mutating func encode(_ value: Float, forKey key: Key) throws { put(key, try number(Double(value))) }
  mutating func encode(_ value: Int, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, String(value)) }
  mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, String(value)) }

  mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
    node.set(key.stringValue, try encodeChild(value, path: codingPath + [key]))
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    let child = _EncNode()
    child.makeObject()
    node.set(key.stringValue, child)
    return KeyedEncodingContainer(_KeyedEnc<NestedKey>(node: child, codingPath: codingPath + [key]))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let child = _EncNode()
    child.makeArray()
    node.set(key.stringValue, child)
    return _UnkeyedEnc(node: child, codingPath: codingPath + [key])
  }

  mutating func superEncoder() -> any Encoder {
    let child = _EncNode()
    node.set("super", child)
    return _JSONEncoder(node: child, codingPath: codingPath)
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    let child = _EncNode()
    node.set(key.stringValue, child)
    return _JSONEncoder(node: child, codingPath: codingPath + [key])
  }
}

/// The scalar encode methods that unkeyed and single-value containers share: each only differs in
/// where the text goes (`put`).
private protocol _ScalarPut {
  mutating func put(_ text: String)
}

extension _ScalarPut {
  mutating func encodeNil() throws { put("null") }
  mutating func encode(_ value: Bool) throws { put(value ? "true" : "false") }
  mutating func encode(_ value: String) throws { put(jsonQuote(value)) }
  mutating func encode(_ value: Double) throws { put(try number(value)) }
  mutating func encode(_ value: Float) throws { put(try number(Double(value))) }
  mutating func encode(_ value: Int) throws { put(String(value)) }
  mutating func encode(_ value: Int8) throws { put(String(value)) }
  mutating func encode(_ value: Int16) throws { put(String(value)) }
  mutating func encode(_ value: Int32) throws { put(String(value)) }
  mutating func encode(_ value: Int64) throws { put(String(value)) }
  mutating func encode(_ value: UInt) throws { put(String(value)) }
  mutating func encode(_ value: UInt8) throws { put(String(value)) }
  mutating func encode(_ value: UInt16) throws { put(String(value)) }
  mutating func encode(_ value: UInt32) throws { put(String(value)) }
  mutating func encode(_ value: UInt64) throws { put(String(value)) }
}

private struct _UnkeyedEnc: UnkeyedEncodingContainer, _ScalarPut {
  let node: _EncNode
  let codingPath: [any CodingKey]
  var count: Int {
    if case .array(let items) = node.kind { return items.count }
    return 0
  }

  func put(_ text: String) { node.append(_EncNode(scalar: text)) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    node.append(try encodeChild(value, path: codingPath + [JSONIndexKey(count)]))
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type
  ) -> KeyedEncodingContainer<NestedKey> {
    let child = _EncNode()
    child.makeObject()
    let path = codingPath + [JSONIndexKey(count)]
    node.append(child)
    return KeyedEncodingContainer(_KeyedEnc<NestedKey>(node: child, codingPath: path))
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let child = _EncNode()
    child.makeArray()
    let path = codingPath + [JSONIndexKey(count)]
    node.append(child)
    return _UnkeyedEnc(node: child, codingPath: path)
  }

  mutating func superEncoder() -> any Encoder {
    let child = _EncNode()
    let path = codingPath + [JSONIndexKey(count)]
    node.append(child)
    return _JSONEncoder(node: child, codingPath: path)
  }
}

private struct _SingleEnc: SingleValueEncodingContainer, _ScalarPut {
  let node: _EncNode
  let codingPath: [any CodingKey]

  func put(_ text: String) { node.kind = .scalar(text) }

  mutating func encode<T: Encodable>(_ value: T) throws {
    try value.encode(to: _JSONEncoder(node: node, codingPath: codingPath))
  }
}

/// A dictionary key in a coding path.
struct JSONStringKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }

  init(_ string: String) {
    self.stringValue = string
  }

  init?(stringValue: String) {
    self.stringValue = stringValue
  }

  init?(intValue: Int) {
    return nil
  }
}
