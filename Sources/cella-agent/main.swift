import CAgentEarly
import CellaSys
import Glibc

// cella-agent: as PID 1 of a VM it is the guest's init and exec server (GuestInit); on the host,
// `cella-agent exec` is the client that runs a command in such a guest (ExecClient).
let arguments = CommandLine.arguments
if getpid() == 1 {
  GuestInit.run()
} else if arguments.count >= 2 && arguments[1] == "exec" {
  exit(ExecClient.main(arguments.dropFirst(2)))
} else {
  try? FileIO.writeAll(fd: 2, Array("cella-agent: usage: \(ExecOptions.usage)\n".utf8))
  exit(ExecClient.usageStatus)
}
