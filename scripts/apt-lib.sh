# Sourced by the install scripts (setup.sh, install-engines.sh): apt helpers.

# Print, one a line, those of the Debian packages named as arguments that are not installed.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}
