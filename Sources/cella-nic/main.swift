import Glibc

// cella-nic: the OCI createRuntime hook that gives a guest its NICs (NICHook). An executable of its own
// rather than a verb of cella-keeper: linking CellaNet into the keeper cost every keeper ~32 KiB of
// private memory for code only the hook runs (Benchmarks/keeper-memory.sh).
exit(NICHook.main(CommandLine.arguments.dropFirst()))
