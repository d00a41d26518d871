# Shared by scripts/: installs Debian packages for whatever is missing.
# Each argument is CHECK:PACKAGE, where CHECK is a command name or an absolute file path.
ensure_debian_packages() {
  local missing=() item check pkg
  for item in "$@"; do
    check=${item%%:*}
    pkg=${item#*:}
    if [[ $check == /* ]]; then
      [[ -e $check ]] && continue
    else
      command -v "$check" >/dev/null 2>&1 && continue
    fi
    [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=
  [[ $(id -u) == 0 ]] || sudo=sudo
  echo "安裝所需套件：${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
