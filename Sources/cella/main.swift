// The `cella` CLI: every verb is a thin call of the daemon's API (Docs/manager.md, Docs/api.yaml).
CLI.main(Array(CommandLine.arguments.dropFirst()))
