import CellaSys
import XCTest

/// The one FNV-1a of the code base, against the reference values of its authors' test suite.
final class FNV1aTests: XCTestCase {
  func testHashesMatchTheReferenceVectors() {
    XCTAssertEqual(FNV1a.hash32("".utf8), 0x811c_9dc5)
    XCTAssertEqual(FNV1a.hash32("a".utf8), 0xe40c_292c)
    XCTAssertEqual(FNV1a.hash32("foobar".utf8), 0xbf9c_f968)
    XCTAssertEqual(FNV1a.hash64("".utf8), 0xcbf2_9ce4_8422_2325)
    XCTAssertEqual(FNV1a.hash64("a".utf8), 0xaf63_dc4c_8601_ec8c)
    XCTAssertEqual(FNV1a.hash64("foobar".utf8), 0x8594_4171_f739_67e8)
  }
}
