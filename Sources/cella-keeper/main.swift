import Glibc

// cella-keeper: see Keeper. Its own errors are one line on stderr (keeper.log) and exit status 1.
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
