import Glibc

/// Points where a test can hold the daemon (`CELLA_TEST_PAUSE=NAME`) to kill it there: a crash at a
/// chosen step, which timing alone hits only by luck. Unset, a point costs one getenv.
enum TestPause {
  static let variable = "CELLA_TEST_PAUSE"

  /// Blocks the calling thread for good when the variable names `point`.
  static func at(_ point: String) {
    guard let value = getenv(variable), String(cString: value) == point else { return }
    while true { sleep(3600) }
  }
}
