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

# The checks live in one Python module, which the tests call too.
check() {
  "$PYTHON" -m clinic.i18n_check
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
