#!/bin/sh
# Regenerates Sources/CellaSecurity/DefaultSeccompProfile.swift from Profiles/seccomp/default.json.
set -eu
cd "$(dirname "$0")/.."
out=Sources/CellaSecurity/DefaultSeccompProfile.swift
{
  echo '// Generated from Profiles/seccomp/default.json by Scripts/embed-profiles.sh; a test keeps them equal.'
  echo
  echo '/// The shipped default seccomp profile (Profiles/seccomp/default.json), embedded for `spec`.'
  echo 'public enum DefaultSeccompProfile {'
  echo '  /// The profile'"'"'s JSON text.'
  echo '  public static let json = #"""'
  cat Profiles/seccomp/default.json
  echo '"""#'
  echo '}'
} > "$out"
