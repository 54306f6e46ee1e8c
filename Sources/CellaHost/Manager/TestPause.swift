import Glibc

/// Points where a test can hold the daemon (`CELLA_TEST_PAUSE=NAME`): to kill it there (a crash at a
/// chosen step), or to let another request run in between (a race at a chosen step); timing alone hits
/// either only by luck. Unset, a point costs one getenv.
enum TestPause {
  static let variable = "CELLA_TEST_PAUSE"

  /// Blocks the calling thread for good when the variable names `point`.
  static func at(_ point: String) {
    guard named(point) else { return }
    while true { sleep(3600) }
  }

  /// Holds the calling thread for `seconds` when the variable names `point` and the file `armed`
  /// exists; the file is removed first, so the test sees the hold begin and only one caller is held.
  static func once(_ point: String, armed: String, seconds: Double) {
    guard named(point), unlink(armed) == 0 else { return }
    usleep(useconds_t(seconds * 1_000_000))
  }

  private static func named(_ point: String) -> Bool {
    guard let value = getenv(variable) else { return false }
    return String(cString: value) == point
  }
}
