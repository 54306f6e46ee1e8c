import Glibc

// cella-keeper: see Keeper. Its own errors are one line on stderr (keeper.log) and exit status 1.
// `cella-keeper nic …` is the hook that gives a guest its NICs (NICHook).
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "nic" {
  exit(NICHook.main(CommandLine.arguments.dropFirst(2)))
}
let keeper: Keeper
do {
  keeper = Keeper(options: try Options.parse(CommandLine.arguments.dropFirst()))
} catch {
  writeAll(2, Array("cella-keeper: error: \(error.message)\n".utf8))
  writeAll(1, Array("fail keeper 1\n".utf8))
  exit(1)
}
do {
  let (listener, initPID) = try keeper.setUp()
  keeper.serve(listener: listener, initPID: initPID)
} catch {
  keeper.die(error)
}
