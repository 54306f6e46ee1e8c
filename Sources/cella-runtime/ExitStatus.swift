import CellaErrors

/// The exit status of `cella-runtime` for each kind of error, the one place the CLI decides it.
///
/// runc's: 1 for every failure, usage errors included, except a container process that could not be
/// executed, which reports as a shell does: 127 when the executable is missing, 126 when it may not
/// run. The switch is exhaustive so that a new kind must be given a status here.
func exitStatus(for kind: ErrorKind) -> Int32 {
  switch kind {
  case .executableNotFound: return 127
  case .executableNotRunnable: return 126
  case .invalidArgument, .notFound, .alreadyExists, .invalidState, .permission, .unsupported, .system, .internal:
    return 1
  }
}
