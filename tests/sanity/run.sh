#!/usr/bin/env bash
# Run `ansible-test sanity` (all default tests) on this collection; exit with ansible-test's exit code.
# Usage: tests/sanity/run.sh [extra ansible-test sanity options, e.g. --test pylint -v]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck disable=SC1091
[[ -f "$root/.venv/bin/activate" ]] && source "$root/.venv/bin/activate"  # else: ansible-test on PATH

# ansible-test takes the collection's name from the path of the current directory, which must really
# be .../ansible_collections/<namespace>/<name> (a symlink is not enough), so test a copy of the tree.
ns="$(sed -n 's/^namespace: *//p' "$root/galaxy.yml")"
name="$(sed -n 's/^name: *//p' "$root/galaxy.yml")"
dest="$root/.cache/sanity/ansible_collections/$ns/$name"   # .cache/ is gitignored

# ansible-test lists the files to test with git from the nearest .git upwards; that would be this repo,
# where .cache/ is ignored, so nothing would be tested. Its own repo makes it list the copied files.
mkdir -p "$dest"
[[ -d "$dest/.git" ]] || git init -q "$dest"
echo /tests/output/ > "$dest/.git/info/exclude"  # ansible-test's venvs there must not be linted
# Remove the previous copy (so deleted files do not linger) but keep tests/output: ansible-test's venvs.
git -C "$dest" clean -ffdxq -e /tests/output/
# Copy what git would: tracked plus untracked-not-ignored files, without the symlink
# collections/ansible_collections/microops/stack -> ../../.. (a loop back to the root).
# --ignore-failed-read: files deleted but not yet staged are listed by git; tar only warns about them.
git -C "$root" ls-files -z -co --exclude-standard | grep -zv '^collections/ansible_collections/' \
  | tar -C "$root" --null --ignore-failed-read -T - -cf - | tar -C "$dest" -xf -

# ansible-test bootstraps pip in its venvs with a script downloaded from Ansible's CI file server
# (unreachable here) unless cached as ~/.ansible/test/cache/get_pip_<version>.py. Put a stand-in there
# that uses the bundled ensurepip, then upgrades to the pinned pip from PyPI.
py="$(command -v python3)"
pyver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
pipver="$("$py" - <<'EOF'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).with_name('_internal') / 'python_requirements.py'
print(re.search(r"\bpip='([0-9.]+)'", src.read_text()).group(1))
EOF
)"
mkdir -p ~/.ansible/test/cache
cat > ~/.ansible/test/cache/"get_pip_${pipver//./_}.py" <<'EOF'
# Stand-in for get-pip.py written by tests/sanity/run.sh. Arguments are pip-install arguments.
import ensurepip, os, subprocess, sys
ensurepip.bootstrap()
os.environ.pop('PIP_CONFIG_FILE', None)  # ensurepip set /dev/null: it hides this machine's pip settings
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]  # get-pip-only options
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
EOF

# --venv, not --docker: no container registry is reachable.
cd "$dest"
rc=0
ansible-test sanity --venv --python "$pyver" --color no "$@" || rc=$?
if (( rc == 0 )); then echo "sanity: PASSED ($ns.$name)"; else echo "sanity: FAILED ($ns.$name), ansible-test exit code $rc"; fi
exit "$rc"
