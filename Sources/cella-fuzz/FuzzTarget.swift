import CellaCgroups
import CellaEngine
import CellaOCI
import CellaRuntimeCore
import CellaSys
import Glibc

// A libFuzzer target over what `create` does before it touches the host: decode, validate, plan
// (Creator.checkConfig). Any input may be refused; none may trap, and every refusal must be one
// non-empty line. Scripts/fuzz.sh builds it with -sanitize=fuzzer and -DCELLA_FUZZING; the plain
// build (swift build) makes a runner that feeds it the files named on the command line, which is
// also how a crash reproducer is replayed.

/// A hybrid host with every controller, at paths that do not exist: the cgroup checks run their
/// host-independent part, and reading a missing cpuset file only skips the "available CPUs" check.
let fuzzCgroups: any CgroupDriver = {
  let controllers = [
    "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "net_cls", "net_prio",
    "perf_event", "pids", "rdma",
  ]
  let missing = "/nonexistent/cella-fuzz"
  return Cgroups.driver(
    hierarchies: CgroupHierarchies(
      layout: .hybrid, v1: Dictionary(uniqueKeysWithValues: controllers.map { ($0, "\(missing)/\($0)") }),
      unified: "\(missing)/unified", unifiedControllers: ["hugetlb", "misc"]))
}()

/// Runs one input through the checks and returns the refusal, if any; traps (on purpose) when an
/// error breaks the one-line rule.
@discardableResult
func checkOne(_ bytes: [UInt8]) -> String? {
  var options = CreateOptions(id: "fuzz", bundle: "/nonexistent/bundle")
  options.seccompCache = nil
  options.consoleSocket = "/nonexistent/console.sock"  // as podman runs it: a terminal is allowed
  do {
    try Creator.checkConfig(bytes, options: options, hostHasPath: { _ in true }, cgroups: fuzzCgroups)
    return nil
  } catch {
    precondition(!error.message.isEmpty, "an empty error message")
    precondition(!error.message.contains("\n"), "a multi-line error message: \(error.message)")
    return error.message
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  checkOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
  return 0
}

#if CELLA_FUZZING
  /// libFuzzer's driver (in the runtime library -sanitize=fuzzer links).
  @_silgen_name("LLVMFuzzerRunDriver")
  func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
  ) -> Int32

  /// SwiftPM's debug builds link an executable's `main` to `<module>_main` (so tests can import the
  /// module); under libFuzzer that symbol must start the fuzzer's driver.
  @_cdecl("cella_fuzz_main")
  public func fuzzMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
  ) -> Int32 {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { fuzzOneInput($0, $1) }
  }
#else
  /// The plain build's entry point (under libFuzzer, libFuzzer's own main drives the target).
  @main
  enum FuzzRunner {
    static func main() {
      for path in CommandLine.arguments.dropFirst() {
        do { print("\(path): \(checkOne(try FileIO.read(path)) ?? "accepted")") } catch {
          print("cella-fuzz: \(path): \(error)")
          exit(2)
        }
      }
    }
  }
#endif
