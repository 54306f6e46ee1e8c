import CellaVM
import XCTest

final class QMPValueTests: XCTestCase {
  private func parse(_ text: String) throws -> QMPValue { try QMPValue.parse(Array(text.utf8)) }

  private func syntaxError(_ text: String) -> QMPSyntaxError? {
    do {
      _ = try QMPValue.parse(Array(text.utf8))
      return nil
    } catch { return error }
  }

  func testAReplyParsesIntoItsMembers() throws {
    let v = try parse(
      #" {"return": {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00"}, "id": "cella-1"} "#)
    XCTAssertEqual(v["id"]?.string, "cella-1")
    XCTAssertEqual(v["return"]?["a"], .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
    XCTAssertEqual(v["return"]?["s"]?.string, "x\"\\/\né😀")
  }

  func testTheWriterEscapesWhatJSONRequiresAndSortsMembers() throws {
    let v = QMPValue.object(["b": .string("q\"\\\n\u{1}"), "a": .array([.number("7"), .null])])
    XCTAssertEqual(v.json, #"{"a":[7,null],"b":"q\"\\\n\u0001"}"#)
    XCTAssertEqual(try parse(v.json), v)
  }

  func testMalformedTextIsRefusedWithItsColumn() {
    XCTAssertEqual(syntaxError(#"{"a": 1,}"#)?.column, 9)
    XCTAssertEqual(syntaxError(#"{"a": 1,}"#)?.reason, "unexpected '}', expected a member name")
    XCTAssertEqual(syntaxError("[01]")?.reason, "invalid number, leading zero")
    XCTAssertEqual(syntaxError("\"a\u{1}\"")?.reason, "control character in a string")
    XCTAssertEqual(syntaxError(#""\ud83d""#)?.reason, "unpaired UTF-16 surrogate")
    XCTAssertEqual(syntaxError(#"{"a": tru}"#)?.reason, "invalid literal, expected 'true'")
    XCTAssertEqual(syntaxError(#"{"a": 1} x"#)?.reason, "unexpected 'x' after the JSON value")
    XCTAssertEqual(syntaxError(#"{"a": "b"#)?.reason, "unterminated string")
    XCTAssertEqual(syntaxError("")?.reason, "unexpected end of line, expected a value")
    XCTAssertEqual(syntaxError(String(repeating: "[", count: 100))?.reason, "nesting is deeper than 64 levels")
    XCTAssertThrowsError(try QMPValue.parse([0x22, 0xC3, 0x22])) {
      XCTAssertEqual(($0 as? QMPSyntaxError)?.reason, "string is not valid UTF-8")
    }
  }
}
