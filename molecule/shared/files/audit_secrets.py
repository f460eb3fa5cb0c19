"""The secrets audit's search, run by molecule/shared/audit.yml (python3, standard library only).

On a stack host, first:  python3 audit_secrets.py files TABLE_JSON
  Every file under /etc/microops and /opt/microops is matched against TABLE's rows (a path regex,
  mode, numeric owner:group, kind: secret, holds or other; owner "service" means the user of the
  service named by the regex's group `service`, from TABLE's service_owners, else root). Prints
  JSON: the problems (a file under /etc/microops that no row documents, a mode or owner not the
  row's) and the values of the host's secret files (the caller hides this output: no_log).
Then:  python3 audit_secrets.py search-host TABLE_JSON   (stdin: JSON {name: value}, every
  host's secrets and the inventory's): the problems of a secret found where nothing should hold
  it: a file of the table not meant to, Ansible's temporary directories (/root/.ansible/tmp, /tmp),
  `docker inspect` of any container.
On the controller:  python3 audit_secrets.py search [--exclude DIR] PATH...   (stdin: JSON
  {name: value}): prints JSON {name: [files under PATHs, but not under DIR, that hold the value]}.
Problems name a secret by its file, never by its value.
"""
import json
import os
import re
import stat
import subprocess
import sys

ROOTS = ("/etc/microops", "/opt/microops")
TEMPORARY = ("/root/.ansible/tmp", "/tmp")
# A secret's value is each line of its file but a PEM armour line; shorter lines (none of the
# stack's) could match by chance.
MINIMUM = 8


def walk(paths, exclude=None):
    for top in paths:
        if os.path.isfile(top):
            yield top
        for directory, dirs, names in os.walk(top):
            dirs[:] = [name for name in dirs if os.path.join(directory, name) != exclude]
            for name in names:
                path = os.path.join(directory, name)
                if stat.S_ISREG(os.lstat(path).st_mode):
                    yield path


def holders(paths, values, exclude=None):
    """{name: [files that hold its value]} for the named values."""
    found = {}
    encoded = {name: value.encode() for name, value in values.items()}
    for path in walk(paths, exclude):
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError:
            continue
        for name, value in encoded.items():
            if value in content:
                found.setdefault(name, []).append(path)
    return found


def values_of(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.strip() for line in handle]
    return [line for line in lines if len(line) >= MINIMUM and not line.startswith("-----")]


def classify(table):
    """({path: kind}, problems) for every file under ROOTS."""
    kinds, problems = {}, []
    for path in walk(ROOTS):
        info = os.lstat(path)
        mode, owner = f"{stat.S_IMODE(info.st_mode):04o}", f"{info.st_uid}:{info.st_gid}"
        row, match = next(((row, re.search(row["path"], path)) for row in table["rows"]
                           if re.search(row["path"], path)), (None, None))
        if row is None:
            kinds[path] = "undocumented"
            if path.startswith(ROOTS[0] + "/"):  # /etc/microops: every file documented
                problems.append(f"{path} ({mode}, {owner}): no row of the table documents it")
            continue
        kinds[path] = row["kind"]
        expected = row["owner"]
        if expected == "service":
            expected = table["service_owners"].get(match.group("service"), "0:0")
        if (mode, owner) != (row["mode"], expected):
            problems.append(f"{path}: {mode} {owner}, documented {row['mode']} {expected}")
    return kinds, problems


def files(table):
    """This host's files against the table, and the values of its secret files."""
    kinds, problems = classify(table)
    values = {}
    for path in sorted(path for path, kind in kinds.items() if kind == "secret"):
        for index, value in enumerate(values_of(path)):
            values[f"{path}#{index}"] = value
    return {"problems": problems, "files": len(kinds), "values": values}


def search_host(table, values):
    """Where this host holds any of the values (every host's secrets and the supplied ones)."""
    kinds, dummy = classify(table)
    problems = []
    for name, paths in holders(ROOTS, values).items():
        problems += [f"{name} is in {path}, which is not meant to hold it"
                     for path in paths if kinds.get(path) not in ("secret", "holds")]
    for name, paths in holders(TEMPORARY, values).items():
        problems.append(f"{name} is in temporary files: {', '.join(paths)}")
    containers = subprocess.run(["docker", "ps", "--all", "--quiet"], capture_output=True, text=True,
                                check=True).stdout.split()
    inspected = json.loads(subprocess.run(["docker", "inspect", *containers], capture_output=True, text=True,
                                          check=True).stdout) if containers else []
    for container in inspected:
        text = json.dumps(container)
        problems += [f"{name} is in `docker inspect {container['Name'][1:]}`"
                     for name, value in values.items() if value in text]
    return {"problems": problems, "containers": len(inspected), "values": len(values)}


def main():
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "files":
        result = files(json.loads(arguments[0]))
    elif command == "search-host":
        result = search_host(json.loads(arguments[0]), json.loads(sys.stdin.read()))
    else:
        exclude = os.path.normpath(arguments[1]) if arguments[0] == "--exclude" else None
        result = holders(arguments[2:] if exclude else arguments, json.loads(sys.stdin.read()), exclude)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
