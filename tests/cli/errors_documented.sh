#!/usr/bin/env bash
# Checks that docs/errors.md lists exactly the error codes of
# include/attest/error.h. $1 (the attest binary) is not used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

passed=0
failed=0

# Each X(NAME, "code", ...) entry, with line continuations joined first.
header_codes=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' include/attest/error.h |
    grep -o 'X(ATTEST_[A-Z0-9_]*, *"[a-z_]*"' | sed 's/.*"\([a-z_]*\)"/\1/' | grep -v '^ok$' | sort)
doc_codes=$(grep -o '^| `[a-z_]*`' docs/errors.md | sed 's/^| `\(.*\)`/\1/' | sort)

for code in $header_codes; do
    if grep -qx "$code" <<<"$doc_codes"; then
        passed=$((passed + 1))
    else
        echo "not ok - $code is in include/attest/error.h but not in docs/errors.md"
        failed=$((failed + 1))
    fi
done
for code in $doc_codes; do
    if ! grep -qx "$code" <<<"$header_codes"; then
        echo "not ok - $code is in docs/errors.md but not in include/attest/error.h"
        failed=$((failed + 1))
    fi
done
echo "ok - $passed documented error codes"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
