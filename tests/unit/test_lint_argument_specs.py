"""Tests for tests/lint_argument_specs.py, each rule with a role that passes and one that fails."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "lint_argument_specs.py"
# The script is not in a package, so load it from its path.
_spec = importlib.util.spec_from_file_location("lint_argument_specs", SCRIPT)
lint = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lint)


def opt(type="str", description="What it does.", **extra):
    """A well-formed option spec; pass type=None or description=None to leave one out."""
    spec = {"type": type, "description": description, **extra}
    return {k: v for k, v in spec.items() if v is not None}


def make_role(roles, name, defaults=None, specs=None, files=None):
    """roles/<name> with defaults/main.yml and meta/argument_specs.yml from the mappings given
    (None leaves the file out), plus any {relative path: text} files."""
    role = roles / name
    role.mkdir(parents=True)
    files = dict(files or {})
    if defaults is not None:
        files["defaults/main.yml"] = yaml.safe_dump(defaults)
    if specs is not None:
        files["meta/argument_specs.yml"] = yaml.safe_dump({"argument_specs": specs})
    for rel, text in files.items():
        (role / rel).parent.mkdir(parents=True, exist_ok=True)
        (role / rel).write_text(text)
    return role


def run(roles, capsys):
    """Exit code and output lines of main() over roles."""
    code = lint.main([str(roles)])
    return code, capsys.readouterr().out.splitlines()


def problems(roles):
    return lint.check_roles(roles)[0]


def test_sound_role_is_in_sync(tmp_path, capsys):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 8080, "web_image": "nginx:{{ web_version }}", "web_version": "1.27"},
        specs={
            "main": {
                "options": {
                    "web_port": opt("int", default=8080),
                    "web_image": opt(default="nginx:{{ web_version }}"),
                    "web_version": opt(),
                    "web_token": opt(required=True),
                }
            }
        },
    )
    assert run(tmp_path, capsys) == (0, ["argument specs: 1 roles, 4 variables, in sync"])


def test_roles_with_neither_file_are_skipped(tmp_path, capsys):
    make_role(tmp_path, "bare", files={"tasks/main.yml": "[]\n", "vars/main.yml": "_bare_x: 1\n"})
    (tmp_path / "README.md").write_text("not a role\n")
    assert run(tmp_path, capsys) == (0, ["argument specs: 0 roles, 0 variables, in sync"])


def test_defaults_without_argument_specs_is_an_error(tmp_path, capsys):
    make_role(tmp_path, "web", defaults={"web_port": 80})
    assert run(tmp_path, capsys) == (
        1,
        ["web: defaults/main.yml exists but meta/argument_specs.yml does not"],
    )


def test_argument_specs_without_defaults_needs_every_option_required(tmp_path):
    make_role(tmp_path, "ok", specs={"main": {"options": {"ok_token": opt(required=True)}}})
    make_role(tmp_path, "bad", specs={"main": {"options": {"bad_port": opt("int")}}})
    assert problems(tmp_path) == [
        "bad: main: bad_port: has no default in defaults/main.yml and is not required: true"
    ]


def test_undocumented_default_is_reported(tmp_path, capsys):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80, "web_extra": True},
        specs={"main": {"options": {"web_port": opt("int")}}},
    )
    assert run(tmp_path, capsys) == (
        1,
        [
            "web: main: web_extra: in defaults/main.yml but not documented in argument_specs.main.options"
        ],
    )


def test_default_documented_only_in_another_entry_point_is_undocumented_in_main(tmp_path):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={"main": {"options": {}}, "agent": {"options": {"web_port": opt("int")}}},
    )
    assert problems(tmp_path) == [
        "web: main: web_port: in defaults/main.yml but not documented in argument_specs.main.options"
    ]


@pytest.mark.parametrize(
    "spec, defaults, expected",
    [
        (opt(), {"web_a": "x"}, []),
        (opt(required=True), {}, []),
        (
            opt(required=False),
            {},
            ["web: main: web_a: has no default in defaults/main.yml and is not required: true"],
        ),
        (
            opt(),
            {},
            ["web: main: web_a: has no default in defaults/main.yml and is not required: true"],
        ),
        (
            opt(required=True),
            {"web_a": "x"},
            ["web: main: web_a: is required: true but has a default in defaults/main.yml"],
        ),
    ],
)
def test_main_options_need_a_default_unless_required(tmp_path, spec, defaults, expected):
    make_role(tmp_path, "web", defaults=defaults, specs={"main": {"options": {"web_a": spec}}})
    assert problems(tmp_path) == expected


@pytest.mark.parametrize(
    "agent_option, expected",
    [
        ("web_port", []),  # defaulted by defaults/main.yml, which the agent entry point also gets
        (
            "web_agent_key",
            [
                "web: agent: web_agent_key: has no default in defaults/main.yml and is not required: true"
            ],
        ),
    ],
)
def test_other_entry_points_take_defaults_from_defaults_main(tmp_path, agent_option, expected):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={
            "main": {"options": {"web_port": opt("int")}},
            "agent": {"options": {agent_option: opt("int")}},
        },
    )
    assert problems(tmp_path) == expected


@pytest.mark.parametrize(
    "spec, expected",
    [
        (opt(required=True), []),
        (
            opt("int", required=True),
            ["web: agent: web_port: is required: true but has a default in defaults/main.yml"],
        ),
    ],
)
def test_other_entry_points_may_require_what_main_does_not_default(tmp_path, spec, expected):
    name = "web_port" if expected else "web_agent_key"
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={"main": {"options": {"web_port": opt("int")}}, "agent": {"options": {name: spec}}},
    )
    assert problems(tmp_path) == expected


def test_entry_point_with_its_own_defaults_file_is_checked_against_it(tmp_path):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={
            "main": {"options": {"web_port": opt("int")}},
            "agent": {
                "options": {"web_agent_port": opt("int", default=9100), "web_port": opt("int")}
            },
        },
        files={"defaults/agent.yml": "web_agent_port: 9100\nweb_agent_extra: 1\n"},
    )
    assert problems(tmp_path) == [
        "web: agent: web_agent_extra: in defaults/agent.yml but not documented in argument_specs.agent.options",
        # defaults/main.yml does not apply when the agent entry point uses defaults/agent.yml.
        "web: agent: web_port: has no default in defaults/agent.yml and is not required: true",
    ]


@pytest.mark.parametrize(
    "defaults_file, entry",
    [("defaults/main.yml", "main"), ("defaults/agent.yml", "agent")],
)
def test_internal_variables_do_not_belong_in_defaults(tmp_path, defaults_file, entry):
    make_role(
        tmp_path,
        "web",
        specs={"main": {"options": {"web_port": opt("int")}}, "agent": {"options": {}}},
        files={defaults_file: "_web_cache: {}\nweb_port: 80\n", "vars/main.yml": "_web_ok: 1\n"},
    )
    expected = [
        f"web: {entry}: _web_cache: internal variable (leading _) belongs in vars/main.yml, not {defaults_file}"
    ]
    if entry == "agent":
        expected += [
            "web: agent: web_port: in defaults/agent.yml but not documented in argument_specs.agent.options",
            "web: main: web_port: has no default in defaults/main.yml and is not required: true",
        ]
    assert problems(tmp_path) == expected


def test_internal_variables_in_vars_are_fine(tmp_path):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={"main": {"options": {"web_port": opt("int")}}},
        files={"vars/main.yml": "_web_cache: {}\n"},
    )
    assert problems(tmp_path) == []


@pytest.mark.parametrize(
    "spec, expected",
    [
        (opt("int"), []),
        (opt("int", description=["First line.", "Second line."]), []),
        (opt("int", description=None), ["web: main: web_port: has no description"]),
        (opt("int", description=""), ["web: main: web_port: has no description"]),
        (opt(None), ["web: main: web_port: has no type"]),
        (opt("integer"), ["web: main: web_port: has unknown type 'integer'"]),
        (
            opt(None, description=None),
            ["web: main: web_port: has no description", "web: main: web_port: has no type"],
        ),
        ("just a string", ["web: main: web_port: option spec must be a mapping"]),
    ],
)
def test_every_option_has_a_description_and_a_known_type(tmp_path, spec, expected):
    make_role(
        tmp_path, "web", defaults={"web_port": 80}, specs={"main": {"options": {"web_port": spec}}}
    )
    assert problems(tmp_path) == expected


def test_options_of_other_entry_points_need_description_and_type_too(tmp_path):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={
            "main": {"options": {"web_port": opt("int")}},
            "agent": {"options": {"web_port": {}}},
        },
    )
    assert problems(tmp_path) == [
        "web: agent: web_port: has no description",
        "web: agent: web_port: has no type",
    ]


@pytest.mark.parametrize(
    "value",
    [
        8080,
        "8080",
        True,
        1.5,
        None,
        [],
        ["a", "b"],
        {"a": {"b": [1]}},
        "{{ web_host }}:{{ web_port }}",
    ],
)
def test_argument_specs_default_equal_to_defaults_value_passes(tmp_path, value):
    make_role(
        tmp_path,
        "web",
        defaults={"web_x": value},
        specs={"main": {"options": {"web_x": opt("raw", default=value)}}},
    )
    assert problems(tmp_path) == []


@pytest.mark.parametrize(
    "spec_default, value",
    [
        (8080, "8080"),  # same text, different YAML type
        (1, True),  # equal in Python, not in YAML
        (1, 1.0),
        (["a", "b"], ["b", "a"]),
        ({"a": 1}, {"a": 1, "b": 2}),
        (
            "{{ web_host }}",
            "{{ web_host | default('x') }}",
        ),  # a template must be documented verbatim
        ("localhost", "{{ web_host }}"),  # even if it would render to the spec default
    ],
)
def test_argument_specs_default_differing_from_defaults_value_fails(tmp_path, spec_default, value):
    make_role(
        tmp_path,
        "web",
        defaults={"web_x": value},
        specs={"main": {"options": {"web_x": opt("raw", default=spec_default)}}},
    )
    assert problems(tmp_path) == [
        f"web: main: web_x: argument_specs default {spec_default!r} differs from defaults/main.yml value {value!r}"
    ]


def test_argument_specs_default_is_compared_on_other_entry_points(tmp_path):
    make_role(
        tmp_path,
        "web",
        defaults={"web_port": 80},
        specs={
            "main": {"options": {"web_port": opt("int")}},
            "agent": {"options": {"web_port": opt("int", default=81)}},
        },
    )
    assert problems(tmp_path) == [
        "web: agent: web_port: argument_specs default 81 differs from defaults/main.yml value 80"
    ]


@pytest.mark.parametrize(
    "role, var, expected",
    [
        ("web", "web_port", []),
        ("node-exporter", "node_exporter_port", []),
        ("stack_common", "stack_common_port", []),  # the role's own prefix, not a site-wide setting
        ("web", "port", ["web: main: port: does not start with the role prefix web_"]),
        ("web", "webport", ["web: main: webport: does not start with the role prefix web_"]),
        (
            "node-exporter",
            "node-exporter_port",
            [
                "node-exporter: main: node-exporter_port: does not start with the role prefix node_exporter_"
            ],
        ),
        (
            "web",
            "stack_domain",
            [
                "web: main: stack_domain: site-wide stack_ setting does not belong in a role's defaults/main.yml"
            ],
        ),
    ],
)
def test_defaults_carry_the_role_prefix_and_no_stack_settings(tmp_path, role, var, expected):
    make_role(tmp_path, role, defaults={var: 1}, specs={"main": {"options": {var: opt("int")}}})
    assert problems(tmp_path) == expected


def test_ansible_tags_in_defaults_are_read(tmp_path):
    make_role(
        tmp_path,
        "web",
        specs={"main": {"options": {"web_motd": opt(default="{{ not templated }}")}}},
        files={"defaults/main.yml": "web_motd: !unsafe '{{ not templated }}'\n"},
    )
    assert problems(tmp_path) == []


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"defaults/main.yml": "web_port: [80\n"}, "web: defaults/main.yml: cannot be parsed: "),
        ({"defaults/main.yml": "- web_port\n"}, "web: defaults/main.yml: must be a YAML mapping"),
        (
            {"meta/argument_specs.yml": "argument_specs: [main]\n"},
            "web: meta/argument_specs.yml: argument_specs must be a mapping of entry points",
        ),
        (
            {"meta/argument_specs.yml": "main: {}\n"},
            "web: meta/argument_specs.yml: argument_specs must be a mapping of entry points",
        ),
        (
            {"meta/argument_specs.yml": "argument_specs:\n  main:\n    options: [web_port]\n"},
            "web: main: argument_specs.main must be a mapping with a mapping of options",
        ),
    ],
)
def test_malformed_files_are_reported(tmp_path, capsys, files, expected):
    files = {
        "defaults/main.yml": "",
        "meta/argument_specs.yml": "argument_specs: {main: {}}\n",
        **files,
    }
    make_role(tmp_path, "web", files=files)
    code, lines = run(tmp_path, capsys)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(expected)


def test_every_problem_of_every_role_is_listed(tmp_path, capsys):
    make_role(
        tmp_path,
        "a",
        defaults={"a_x": 1, "b_y": 2},
        specs={"main": {"options": {"a_x": opt("int"), "a_z": opt()}}},
    )
    make_role(tmp_path, "b", defaults={"b_y": 2})
    make_role(
        tmp_path, "c", defaults={"c_ok": 1}, specs={"main": {"options": {"c_ok": opt("int")}}}
    )
    assert run(tmp_path, capsys) == (
        1,
        [
            "a: main: b_y: does not start with the role prefix a_",
            "a: main: b_y: in defaults/main.yml but not documented in argument_specs.main.options",
            "a: main: a_z: has no default in defaults/main.yml and is not required: true",
            "b: defaults/main.yml exists but meta/argument_specs.yml does not",
        ],
    )


def test_a_roles_dir_that_does_not_exist_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        lint.main([str(tmp_path / "nope")])
    assert exc.value.code == 2


def test_the_default_roles_dir_is_beside_tests():
    assert lint.ROLES_DIR == SCRIPT.parent.parent / "roles"


def test_the_repository_roles_are_in_sync(capsys):
    code = lint.main([])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("argument specs: ") and out.rstrip().endswith(", in sync")


def test_runs_as_a_script_over_the_repository_roles():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(", in sync\n")
