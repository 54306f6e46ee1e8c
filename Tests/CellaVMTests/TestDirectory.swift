import Glibc

/// A test's own directory, `/tmp/cella-it-<run>-XXXXXX`: named after the suite's run id
/// (CELLA_TEST_RUN, shared with Scripts/leak-check.sh), so that one left behind is counted as a leak.
func makeTestDirectory() -> String {
  let run = getenv("CELLA_TEST_RUN").map { String(cString: $0) } ?? "vm"
  var template = Array("/tmp/cella-it-\(run)-XXXXXX".utf8CString)
  guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
    preconditionFailure("mkdtemp /tmp/cella-it-\(run)-XXXXXX failed")
  }
  return String(cString: made)
}
