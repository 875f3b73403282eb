#!/usr/bin/env bash
# Shows that each CVE regression test can fail: runs every file of test/integration/cve
# against a build with its walls compiled out (TSRUNC_WEAKEN=all; see
# test/integration/cve/README.md) and expects each file to fail, by its tests' assertions
# and not because the weakened build could not be made (a failing "before all" hook).
# Each file is one check; the last line is `N passed, N failed` over the files.
# Run as root from the repository, after the builds (`npm test` does not run this: .ci/run does).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for file in test/integration/cve/*.test.ts; do
  TSRUNC_WEAKEN=all node scripts/test.mjs "$file" </dev/null >"$log" 2>&1
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$plain" | tail -n 1)
  fails=$(awk '{print $3}' <<<"$line")
  if grep -qE '"(before|after) (all|each)" hook' <<<"$plain"; then
    echo "FAIL $file: the weakened run broke in a hook, not in the tests:"
    grep -E -A6 '"(before|after) (all|each)" hook' <<<"$plain" | head -n 12
    failed=$((failed + 1))
  elif [ -z "$line" ] || [ "${fails:-0}" -eq 0 ]; then
    echo "FAIL $file: every test passed on a build without its walls (${line:-no summary})"
    failed=$((failed + 1))
  else
    echo "ok   $file: fails on the weakened build ($line)"
    passed=$((passed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
