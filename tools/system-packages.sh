#!/usr/bin/env bash
# Debian packages some tests use when present: headless Chromium (the reports are opened in a
# real browser), Graphviz (scenario graphs in reports) and DejaVu fonts (Polish letters in PDFs).
# Installs what is missing when it can (root, apt-get); never fails the build by itself: the
# tests that need a missing one skip with a clear reason.
set -u

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: chromium, graphviz and fonts present"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "system packages: could not install ${missing[*]}; their tests will be skipped"
else
  echo "system packages: missing ${missing[*]} (apt-get install ${missing[*]}); their tests will be skipped"
fi
exit 0
