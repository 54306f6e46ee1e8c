/// Range checks for numbers that come from outside the program (config.json, flags, state files,
/// /proc): a plain `T(x)` traps on a value that does not fit, so every such conversion goes through
/// here, and every refusal reads the same way: `<field>: <value> is out of range <lo>...<hi>`.
public enum IntegerRange {
  /// The one message shape, without the field (the JSON decoder adds the field path itself).
  public static func problem(value: String, lower: String, upper: String) -> String {
    "\(value) is out of range \(lower)...\(upper)"
  }

  /// The error for `value` outside `range`.
  public static func error<T: BinaryInteger>(_ field: String, _ value: some BinaryInteger, _ range: ClosedRange<T>)
    -> OCIError
  {
    OCIError("\(field): " + problem(value: "\(value)", lower: "\(range.lowerBound)", upper: "\(range.upperBound)"))
  }

  /// `value` when it lies in `range`.
  @discardableResult
  public static func check<T: BinaryInteger>(_ value: T, in range: ClosedRange<T>, _ field: String) throws(OCIError)
    -> T
  {
    guard range.contains(value) else { throw error(field, value, range) }
    return value
  }

  /// `value` as a `T` when it lies in `range` (by default everything a `T` holds).
  public static func convert<T: FixedWidthInteger>(
    _ value: some BinaryInteger, to type: T.Type = T.self, in range: ClosedRange<T> = T.min...T.max,
    _ field: String
  ) throws(OCIError) -> T {
    guard let converted = T(exactly: value), range.contains(converted) else { throw error(field, value, range) }
    return converted
  }
}
