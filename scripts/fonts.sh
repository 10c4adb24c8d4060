#!/usr/bin/env bash
# System packages of the PDF analysis reports (WeasyPrint): Pango (its text layout), a Chinese
# font and, for the tests that read PDFs back, pdftotext.
#   scripts/fonts.sh ensure   install with apt whatever is missing (as root, or with sudo)
#   scripts/fonts.sh check    exit 1 if something is missing (prints what)
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing() {
  local out=()
  ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || out+=(libpango-1.0-0 libpangoft2-1.0-0)
  { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || out+=(fonts-noto-cjk)
  command -v pdftotext >/dev/null || out+=(poppler-utils)
  echo "${out[@]:-}"
}

case "${1:-}" in
  ensure)
    pkgs=$(missing)
    if [ -n "$pkgs" ]; then
      echo "installing $pkgs with apt ..." >&2
      as_root apt-get update -qq
      # shellcheck disable=SC2086
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq $pkgs >/dev/null
    fi
    ;;
  check)
    pkgs=$(missing)
    if [ -n "$pkgs" ]; then echo "missing: $pkgs" >&2; exit 1; fi
    ;;
  *) echo "usage: $0 ensure | check" >&2; exit 2 ;;
esac
