#!/usr/bin/env bash
# Checks that every git-tracked C++ file (*.h, *.cc; build dirs excluded) is formatted as
# .clang-format says (Google base, ColumnLimit 100). Changes nothing: lists the files that
# differ, shows how (the first lines of the diff) and how to fix them, and exits 1 if any do.
# CLANG_FORMAT picks the binary (default clang-format: Debian 12's is clang-format 14, the
# one CI uses; other versions may format a few constructs differently).
set -euo pipefail
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || {
  echo "check-format: $clang_format not found (scripts/install-deps.sh installs it)" >&2
  exit 2
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.h' '*.cc' ':!:build*/**')
else  # an unpacked archive: the same files, found instead of listed
  mapfile -t files < <(find . -path './build*' -prune -o -path './.git' -prune -o \
    -type f \( -name '*.h' -o -name '*.cc' \) -printf '%P\n' | sort)
fi

differ=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue  # deleted in the work tree, not yet in the index
  "$clang_format" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || differ+=("$f")
done

if [[ ${#differ[@]} -eq 0 ]]; then
  echo "check-format: all ${#files[@]} C++ files are formatted as .clang-format says."
  exit 0
fi

{
  echo "check-format: ${#differ[@]} of ${#files[@]} C++ files are not formatted as .clang-format says:"
  printf '  %s\n' "${differ[@]}"
  echo
  echo "What $clang_format would change (first 100 lines):"
  for f in "${differ[@]}"; do
    "$clang_format" --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - || true
  done | head -n 100 || true  # head may cut the diff off mid-write
  echo
  echo "Fix them with:"
  echo "  $clang_format -i ${differ[*]}"
} >&2
exit 1
