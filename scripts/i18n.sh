#!/usr/bin/env bash
# Gettext catalogues with Babel. English source strings are the msgids (marked N_() or _()).
#   scripts/i18n.sh            extract + update + compile (run this after adding or changing strings)
#   scripts/i18n.sh extract    code -> locales/messages.pot (rewritten only when the strings changed)
#   scripts/i18n.sh init       create locales/<lang>/LC_MESSAGES/messages.po where missing
#   scripts/i18n.sh update     messages.pot -> each language's messages.po (creates missing ones)
#   scripts/i18n.sh compile    messages.po -> messages.mo (build artefacts, git-ignored)
#   scripts/i18n.sh check      fail if the .pot is stale or any Persian string is untranslated/fuzzy
set -euo pipefail
cd "$(dirname "$0")/.."

LANGS=(fa en)
DOMAIN=messages
POT=locales/$DOMAIN.pot
VENV=${RADYAR_VENV:-.venv}

if [ -x "$VENV/bin/pybabel" ]; then
  PYBABEL=$VENV/bin/pybabel
  PYTHON=$VENV/bin/python
else
  PYBABEL=$(command -v pybabel) || { echo "i18n: pybabel not found (pip install Babel)" >&2; exit 1; }
  PYTHON=$(command -v python3)
fi

po_file() { echo "locales/$1/LC_MESSAGES/$DOMAIN.po"; }

# Same options everywhere, so `check` extracts exactly what `extract` would write.
extract_to() {
  "$PYBABEL" -q extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
    --add-comments=TRANSLATORS: --project=Radyar -o "$1" .
}

# The header's creation date changes on every run; keep the old file unless the strings changed,
# so a no-op extract leaves git clean.
extract() {
  local tmp
  tmp=$(mktemp)
  extract_to "$tmp"
  if [ -f "$POT" ] && cmp -s <(grep -v '^"POT-Creation-Date:' "$POT") \
                              <(grep -v '^"POT-Creation-Date:' "$tmp"); then
    rm -f "$tmp"
    echo "i18n: $POT is up to date"
  else
    mkdir -p locales
    mv "$tmp" "$POT"
    chmod 644 "$POT"
    echo "i18n: wrote $POT"
  fi
}

init() {
  [ -f "$POT" ] || extract
  local lang
  for lang in "${LANGS[@]}"; do
    if [ ! -f "$(po_file "$lang")" ]; then
      "$PYBABEL" init -i "$POT" -d locales -D "$DOMAIN" -l "$lang"
    fi
  done
}

update() {
  init
  local lang
  for lang in "${LANGS[@]}"; do
    "$PYBABEL" -q update -i "$POT" -d locales -D "$DOMAIN" -l "$lang" \
      --no-fuzzy-matching --ignore-obsolete
  done
}

compile() {
  "$PYBABEL" compile -d locales -D "$DOMAIN" --statistics
}

check() {
  local tmp status=0
  tmp=$(mktemp)
  extract_to "$tmp"
  "$PYTHON" - "$tmp" "$POT" "$(po_file fa)" "$(po_file en)" <<'PY' || status=$?
import re
import string
import sys
from pathlib import Path

from babel.messages.pofile import read_po

fresh_path, pot_path, fa_path, en_path = sys.argv[1:5]


def load(path):
    if not Path(path).is_file():
        sys.exit(f"i18n check: {path} is missing; run scripts/i18n.sh")
    with open(path, "rb") as f:
        return read_po(f)


def ids(catalog):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def names(text):
    """The str.format fields; None when the braces are malformed."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    return {re.split(r"[.\[]", f)[0] for _, f, _, _ in parsed if f is not None}


problems = []
code, pot = ids(load(fresh_path)), ids(load(pot_path))
for msgid in sorted(code - pot):
    problems.append(f"not in {pot_path}: {msgid!r}")
for msgid in sorted(pot - code):
    problems.append(f"in {pot_path} but no longer in the code: {msgid!r}")

fa = load(fa_path)
for msgid in sorted(code):
    message = fa.get(msgid)
    if message is None:
        problems.append(f"fa: missing: {msgid!r}")
        continue
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not all(strings):
        problems.append(f"fa: untranslated: {msgid!r}")
    elif message.fuzzy:
        problems.append(f"fa: fuzzy (review it, then remove the fuzzy flag): {msgid!r}")
    elif any(names(s) != names(message.id[-1] if message.pluralizable else msgid)
             for s in strings):
        problems.append(f"fa: placeholders differ from the msgid: {msgid!r}")

en = ids(load(en_path))
for msgid in sorted(code - en):
    problems.append(f"en: missing: {msgid!r}")

if problems:
    print("i18n check failed:", *problems, sep="\n  ", file=sys.stderr)
    print(
        "Run scripts/i18n.sh (extract + update + compile), then translate every empty or fuzzy\n"
        f"msgstr in {fa_path}.",
        file=sys.stderr,
    )
    sys.exit(1)
print(f"i18n check: {len(code)} msgids, catalogues up to date, Persian complete")
PY
  rm -f "$tmp"
  return "$status"
}

case "${1:-all}" in
  all) extract; update; compile ;;
  extract) extract ;;
  init) init ;;
  update) update ;;
  compile) compile ;;
  check) check ;;
  *)
    echo "usage: scripts/i18n.sh [extract|init|update|compile|check]" >&2
    exit 2
    ;;
esac
