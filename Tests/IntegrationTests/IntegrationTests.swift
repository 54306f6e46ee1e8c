// Integration tests run real containers; see Support/ and the test files beside this one.
import XCTest
