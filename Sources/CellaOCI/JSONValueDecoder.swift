/// A Decoder over `JSONValue` that reports every failure with the exact
/// coding path and a short human reason in `debugDescription`.
///
/// We use our own decoder (rather than JSONDecoder) because it reports
/// syntax errors with line and column and out-of-range numbers with their
/// field path, which the OCI error messages need.
struct JSONValueDecoder {
  static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
    try T(from: _JSONDecoder(value: value, codingPath: []))
  }
}

/// An array index in a coding path, printed as `[n]`.
struct JSONIndexKey: CodingKey {
  var intValue: Int?
  var stringValue: String { "Index \(intValue ?? 0)" }

  init(_ index: Int) {
    self.intValue = index
  }

  init?(intValue: Int) {
    self.intValue = intValue
  }

  init?(stringValue: String) {
    return nil
  }
}

private final class _JSONDecoder: Decoder {
  let value: JSONValue
  let codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(value: JSONValue, codingPath: [any CodingKey]) {
    self.value = value
    self.codingPath = codingPath
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let object) = value else {
      throw mismatch([String: Any].self, expected: "an object")
    }
    return KeyedDecodingContainer(_KeyedContainer<Key>(object: object, codingPath: codingPath))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let array) = value else {
      throw mismatch([Any].self, expected: "an array")
    }
    return _UnkeyedContainer(array: array, codingPath: codingPath)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    _SingleValue(value: value, codingPath: codingPath)
  }

  func mismatch(_ type: Any.Type, expected: String) -> DecodingError {
    mismatchError(type, expected: expected, found: value, codingPath: codingPath)
  }
}

private func mismatchError(
  _ type: Any.Type, expected: String, found: JSONValue, codingPath: [any CodingKey]
) -> DecodingError {
  if case .null = found {
    return .valueNotFound(
      type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found null"))
  }
  return .typeMismatch(
    type, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(found.kindDescription)"))
}

/// Conversions shared by every container.
private struct Unbox {
  let value: JSONValue
  let codingPath: [any CodingKey]

  func bool() throws -> Bool {
    guard case .bool(let b) = value else {
      throw mismatchError(Bool.self, expected: "true or false", found: value, codingPath: codingPath)
    }
    return b
  }

  func string() throws -> String {
    guard case .string(let s) = value else {
      throw mismatchError(String.self, expected: "a string", found: value, codingPath: codingPath)
    }
    return s
  }

  func double() throws -> Double {
    guard case .number(let text) = value else {
      throw mismatchError(Double.self, expected: "a number", found: value, codingPath: codingPath)
    }
    guard let d = Double(text), d.isFinite else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: codingPath, debugDescription: "\(text) is not a representable number"))
    }
    return d
  }

  func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
    guard case .number(let text) = value else {
      throw mismatchError(T.self, expected: "a number", found: value, codingPath: codingPath)
    }
    if let v = T(text) { return v }
    let isIntegerLiteral = !text.contains { $0 == "." || $0 == "e" || $0 == "E" }
    if !isIntegerLiteral, let d = Double(text), d.isFinite, d.rounded(.towardZero) == d {
      if let v = T(exactly: d) { return v }
    } else if !isIntegerLiteral {
      throw DecodingError.dataCorrupted(
        .init(codingPath: codingPath, debugDescription: "expected a whole number, found \(text)"))
    }
    throw DecodingError.dataCorrupted(
      .init(
        codingPath: codingPath,
        debugDescription: IntegerRange.problem(value: text, lower: "\(T.min)", upper: "\(T.max)")
      ))
  }
}

private struct _KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
  let object: [String: JSONValue]
  let codingPath: [any CodingKey]

  var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

  func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

  private func value(_ key: Key) throws -> JSONValue {
    guard let v = object[key.stringValue] else {
      throw DecodingError.keyNotFound(
        key, .init(codingPath: codingPath + [key], debugDescription: "required field is missing"))
    }
    return v
  }

  private func unbox(_ key: Key) throws -> Unbox {
    Unbox(value: try value(key), codingPath: codingPath + [key])
  }

  func decodeNil(forKey key: Key) throws -> Bool {
    if case .null = try value(key) { return true }
    return false
  }

  func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try unbox(key).bool() }
  func decode(_ type: String.Type, forKey key: Key) throws -> String { try unbox(key).string() }
  func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try unbox(key).double() }
  func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try unbox(key).double()) }
  func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try unbox(key).integer(type) }
  func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try unbox(key).integer(type) }
  func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try unbox(key).integer(type) }
  func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try unbox(key).integer(type) }
  func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try unbox(key).integer(type) }
  func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try unbox(key).integer(type) }
  func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try unbox(key).integer(type) }
  func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try unbox(key).integer(type) }
  func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try unbox(key).integer(type) }
  func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try unbox(key).integer(type) }

  func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
    try T(from: _JSONDecoder(value: try value(key), codingPath: codingPath + [key]))
  }

  func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type, forKey key: Key
  ) throws -> KeyedDecodingContainer<NestedKey> {
    try _JSONDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
  }

  func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
    try _JSONDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
  }

  func superDecoder() throws -> any Decoder {
    _JSONDecoder(value: .object(object), codingPath: codingPath)
  }

  func superDecoder(forKey key: Key) throws -> any Decoder {
    _JSONDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key])
  }
}

private struct _UnkeyedContainer: UnkeyedDecodingContainer {
  let array: [JSONValue]
  let codingPath: [any CodingKey]
  var currentIndex = 0

  init(array: [JSONValue], codingPath: [any CodingKey]) {
    self.array = array
    self.codingPath = codingPath
  }

  var count: Int? { array.count }
  var isAtEnd: Bool { currentIndex >= array.count }

  private mutating func next(_ type: Any.Type) throws -> (JSONValue, [any CodingKey]) {
    let path = codingPath + [JSONIndexKey(currentIndex)]
    guard !isAtEnd else {
      throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the array is too short"))
    }
    let v = array[currentIndex]
    currentIndex += 1
    return (v, path)
  }

  private mutating func unbox(_ type: Any.Type) throws -> Unbox {
    let (v, path) = try next(type)
    return Unbox(value: v, codingPath: path)
  }

  mutating func decodeNil() throws -> Bool {
    guard !isAtEnd else { return false }
    if case .null = array[currentIndex] {
      currentIndex += 1
      return true
    }
    return false
  }

  mutating func decode(_ type: Bool.Type) throws -> Bool { try unbox(type).bool() }
  mutating func decode(_ type: String.Type) throws -> String { try unbox(type).string() }
  mutating func decode(_ type: Double.Type) throws -> Double { try unbox(type).double() }
  mutating func decode(_ type: Float.Type) throws -> Float { Float(try unbox(type).double()) }
  mutating func decode(_ type: Int.Type) throws -> Int { try unbox(type).integer(type) }
  mutating func decode(_ type: Int8.Type) throws -> Int8 { try unbox(type).integer(type) }
  mutating func decode(_ type: Int16.Type) throws -> Int16 { try unbox(type).integer(type) }
  mutating func decode(_ type: Int32.Type) throws -> Int32 { try unbox(type).integer(type) }
  mutating func decode(_ type: Int64.Type) throws -> Int64 { try unbox(type).integer(type) }
  mutating func decode(_ type: UInt.Type) throws -> UInt { try unbox(type).integer(type) }
  mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try unbox(type).integer(type) }
  mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try unbox(type).integer(type) }
  mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try unbox(type).integer(type) }
  mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try unbox(type).integer(type) }

  mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
    let (v, path) = try next(type)
    return try T(from: _JSONDecoder(value: v, codingPath: path))
  }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy type: NestedKey.Type
  ) throws -> KeyedDecodingContainer<NestedKey> {
    let (v, path) = try next([String: Any].self)
    return try _JSONDecoder(value: v, codingPath: path).container(keyedBy: type)
  }

  mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
    let (v, path) = try next([Any].self)
    return try _JSONDecoder(value: v, codingPath: path).unkeyedContainer()
  }

  mutating func superDecoder() throws -> any Decoder {
    let (v, path) = try next(Any.self)
    return _JSONDecoder(value: v, codingPath: path)
  }
}

private struct _SingleValue: SingleValueDecodingContainer {
  let value: JSONValue
  let codingPath: [any CodingKey]

  private var unbox: Unbox { Unbox(value: value, codingPath: codingPath) }

  func decodeNil() -> Bool {
    if case .null = value { return true }
    return false
  }

  func decode(_ type: Bool.Type) throws -> Bool { try unbox.bool() }
  func decode(_ type: String.Type) throws -> String { try unbox.string() }
  func decode(_ type: Double.Type) throws -> Double { try unbox.double() }
  func decode(_ type: Float.Type) throws -> Float { Float(try unbox.double()) }
  func decode(_ type: Int.Type) throws -> Int { try unbox.integer(type) }
  func decode(_ type: Int8.Type) throws -> Int8 { try unbox.integer(type) }
  func decode(_ type: Int16.Type) throws -> Int16 { try unbox.integer(type) }
  func decode(_ type: Int32.Type) throws -> Int32 { try unbox.integer(type) }
  func decode(_ type: Int64.Type) throws -> Int64 { try unbox.integer(type) }
  func decode(_ type: UInt.Type) throws -> UInt { try unbox.integer(type) }
  func decode(_ type: UInt8.Type) throws -> UInt8 { try unbox.integer(type) }
  func decode(_ type: UInt16.Type) throws -> UInt16 { try unbox.integer(type) }
  func decode(_ type: UInt32.Type) throws -> UInt32 { try unbox.integer(type) }
  func decode(_ type: UInt64.Type) throws -> UInt64 { try unbox.integer(type) }

  func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try T(from: _JSONDecoder(value: value, codingPath: codingPath))
  }
}
