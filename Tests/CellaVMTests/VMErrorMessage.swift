import CellaVM

/// The message of the VMError `body` throws ("no error" when it throws none), for one-line assertions.
func vmErrorMessage(_ body: () throws -> Void) -> String {
  do {
    try body()
    return "no error"
  } catch {
    return (error as? VMError)?.message ?? "\(error)"
  }
}
