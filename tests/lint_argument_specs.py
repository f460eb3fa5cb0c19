#!/usr/bin/env python
"""Fail the build when a role's defaults and meta/argument_specs.yml drift apart.

Modelled on prometheus.prometheus's .github/scripts/lint_arguments_spec.sh, which only diffs the
variable names of defaults/main.yml against those of argument_specs.main.options. This also checks
required-versus-default, the other entry points, that argument_specs defaults equal the real ones,
that every option has a description and a type, and how defaults variables are named.

Usage: python tests/lint_argument_specs.py [ROLES_DIR]    (default: roles/ beside tests/)
Exit 0 with one summary line when every role is in sync, 1 with one problem per line otherwise.
"""

import argparse
import sys
from pathlib import Path

import yaml

ROLES_DIR = Path(__file__).resolve().parent.parent / "roles"

# The types ansible.builtin.validate_argument_spec knows; any other name is a typo that Ansible
# would only reject when the role runs.
TYPES = {
    "bits",
    "bool",
    "bytes",
    "dict",
    "float",
    "int",
    "json",
    "jsonarg",
    "list",
    "path",
    "raw",
    "str",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads Ansible's !unsafe and !vault tags as the plain value they tag."""


def _untagged(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_Loader.add_multi_constructor("!", _untagged)


def _find(directory, stem):
    """The file Ansible reads for <directory>/<stem>: <stem>.yml, <stem>.yaml or bare <stem>."""
    for name in (f"{stem}.yml", f"{stem}.yaml", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def _same(a, b):
    """Equal as parsed YAML, types included: 8080 is not "8080" and true is not 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def check_role(role_dir):
    """(problems, variable names) of one role, or None when it has neither file to compare."""
    role = role_dir.name
    prefix = role.replace("-", "_") + "_"
    problems = []

    def report(entry, var, text):
        problems.append(f"{role}: {entry}: {var}: {text}")

    def load_mapping(path):
        """The mapping in path ({} if empty), or None, reported, when it is not one."""
        rel = path.relative_to(role_dir)
        try:
            data = yaml.load(path.read_text(), Loader=_Loader)
        except yaml.YAMLError as exc:
            problems.append(f"{role}: {rel}: cannot be parsed: {' '.join(str(exc).split())}")
            return None
        if data is not None and not isinstance(data, dict):
            problems.append(f"{role}: {rel}: must be a YAML mapping")
            return None
        return {str(k): v for k, v in (data or {}).items()}

    defaults_path = _find(role_dir / "defaults", "main")
    specs_path = _find(role_dir / "meta", "argument_specs")
    if defaults_path is None and specs_path is None:
        return None
    if specs_path is None:
        problems.append(
            f"{role}: {defaults_path.relative_to(role_dir)} exists but meta/argument_specs.yml does not"
        )

    specs = {}
    if specs_path is not None:
        doc = load_mapping(specs_path)
        specs = doc.get("argument_specs") if doc is not None else {}
        if not isinstance(specs, dict):
            problems.append(
                f"{role}: meta/argument_specs.yml: argument_specs must be a mapping of entry points"
            )
            specs = {}
    options = {}  # entry point -> option name -> option spec
    for entry, spec in specs.items():
        opts = spec.get("options") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(opts, (dict, type(None))):
            problems.append(
                f"{role}: {entry}: argument_specs.{entry} must be a mapping with a mapping of options"
            )
            opts = {}
        options[entry] = {str(k): v for k, v in (opts or {}).items()}

    # Ansible applies defaults/main.yml whatever the entry point, unless the role is entered with
    # defaults_from: <entry>; so an entry point with its own defaults/<entry>.yml is checked
    # against that file, every other one against defaults/main.yml.
    defaults = {"main": ("defaults/main.yml", {})}  # entry point -> (file name, variables)
    for entry in ["main"] + [e for e in options if e != "main"]:
        path = defaults_path if entry == "main" else _find(role_dir / "defaults", entry)
        if path is not None:
            defaults[entry] = (str(path.relative_to(role_dir)), load_mapping(path) or {})

    for entry, (rel, values) in defaults.items():
        for var in values:
            if var.startswith("_"):
                report(
                    entry, var, f"internal variable (leading _) belongs in vars/main.yml, not {rel}"
                )
                continue
            if not var.startswith(prefix):
                if var.startswith("stack_"):
                    report(
                        entry, var, f"site-wide stack_ setting does not belong in a role's {rel}"
                    )
                else:
                    report(entry, var, f"does not start with the role prefix {prefix}")
            if specs_path is not None and var not in options.get(entry, {}):
                report(entry, var, f"in {rel} but not documented in argument_specs.{entry}.options")

    for entry, opts in options.items():
        rel, values = defaults.get(entry, defaults["main"])
        for var, spec in opts.items():
            if not isinstance(spec, dict):
                report(entry, var, "option spec must be a mapping")
                continue
            if not spec.get("description"):
                report(entry, var, "has no description")
            if "type" not in spec:
                report(entry, var, "has no type")
            elif spec["type"] not in TYPES:
                report(entry, var, f"has unknown type {spec['type']!r}")
            required = spec.get("required") is True
            if required and var in values:
                # Defaults count as provided, so the requirement could never fail.
                report(entry, var, f"is required: true but has a default in {rel}")
            elif not required and var not in values:
                report(entry, var, f"has no default in {rel} and is not required: true")
            # No templating here: a Jinja default must be documented as the same template string.
            if "default" in spec and var in values and not _same(spec["default"], values[var]):
                report(
                    entry,
                    var,
                    f"argument_specs default {spec['default']!r} differs from {rel} value {values[var]!r}",
                )

    variables = {var for _path, values in defaults.values() for var in values}
    variables.update(var for opts in options.values() for var in opts)
    return problems, variables


def check_roles(roles_dir):
    """(problems, roles checked, variables declared) over every role in roles_dir."""
    problems, roles, variables = [], 0, 0
    role_dirs = sorted(p for p in roles_dir.iterdir() if p.is_dir()) if roles_dir.is_dir() else []
    for role_dir in role_dirs:
        result = check_role(role_dir)
        if result is not None:
            problems += result[0]
            roles += 1
            variables += len(result[1])
    return problems, roles, variables


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roles_dir", nargs="?", type=Path, help=f"default: {ROLES_DIR}")
    args = parser.parse_args(argv)
    # The default roles/ may not exist yet (no roles is in sync); a path given by hand must,
    # or a typo would pass silently.
    if args.roles_dir is not None and not args.roles_dir.is_dir():
        parser.error(f"{args.roles_dir} is not a directory")
    problems, roles, variables = check_roles(args.roles_dir or ROLES_DIR)
    if problems:
        print("\n".join(problems))
        return 1
    print(f"argument specs: {roles} roles, {variables} variables, in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
