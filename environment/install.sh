#!/usr/bin/env bash
# Installs the oneml Java kernel for Jupyter.
#
#   environment/install.sh [--with-jupyter] [--user | --prefix DIR] [--name NAME] [--display-name NAME]
#
#   --with-jupyter   first install Jupyter from Debian/Ubuntu packages (apt-get; sudo when not root):
#                    jupyter-notebook jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test jupyter-client
#   other options    go to './oneml kernel install' (which builds the jar first when needed); without --user or
#                    --prefix the kernelspec goes system-wide when run as root, else to the user's Jupyter data
#                    directory (JUPYTER_DATA_DIR when set)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(jupyter-notebook jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test jupyter-client)

with_jupyter=0
location=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --with-jupyter) with_jupyter=1 ;;
    --user) location=1; args+=("$1") ;;
    --prefix) location=1; args+=("$1" "$2"); shift ;;
    --prefix=*) location=1; args+=("$1") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

if [ "$with_jupyter" = 1 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: no apt-get here; install Jupyter another way, for example:" >&2
    echo "  python3 -m pip install notebook nbconvert nbclient jupyter_client jupyter_kernel_test" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"
fi

if [ "$location" = 0 ] && [ "$(id -u)" != 0 ]; then
  args+=(--user)
fi
"$root/oneml" kernel install ${args[@]+"${args[@]}"}
if command -v jupyter >/dev/null 2>&1; then
  jupyter kernelspec list 2>/dev/null || true
fi
