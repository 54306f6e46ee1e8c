/// Container id rules, the same as runc's: `[A-Za-z0-9_+.-]+`, not `.` or
/// `..`, at most 1024 characters.
public enum ContainerID {
  public static let maxLength = 1024

  public static func isValid(_ id: String) -> Bool {
    guard !id.isEmpty, id.utf8.count <= maxLength, id != ".", id != ".." else { return false }
    return id.utf8.allSatisfy { b in
      (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
        || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
    }
  }

  public static func validate(_ id: String) throws(OCIError) {
    if id.isEmpty {
      throw OCIError("container id is empty: give one of letters, digits and _ + . -")
    }
    if id.utf8.count > maxLength {
      throw OCIError("container id is too long (\(id.utf8.count) bytes, at most \(maxLength))")
    }
    if id == "." || id == ".." {
      throw OCIError("container id \(quote(id)) is invalid: it cannot be . or ..")
    }
    guard isValid(id) else {
      throw OCIError("container id \(quote(id)) is invalid: use only letters, digits and _ + . -")
    }
  }
}
