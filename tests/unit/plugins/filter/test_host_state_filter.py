import hashlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.host_state import host_state_differs, host_state_stale


def _file(content, mode="0644", uid=0, gid=0):
    return {"exists": True, "isdir": False, "mode": mode, "uid": uid, "gid": gid,
            "checksum": hashlib.sha1(content.encode()).hexdigest()}


MISSING = {"exists": False, "isdir": False, "mode": None, "uid": None, "gid": None, "checksum": None}
DIR = {"exists": True, "isdir": True, "mode": "0755", "uid": 0, "gid": 0, "checksum": None}
STATE = {"paths": {"/f": _file("a: 1\n"), "/g": _file("x", mode="0640", gid=65534), "/d": DIR, "/m": MISSING}}


@pytest.mark.parametrize(
    ("kwargs", "differs"),
    [
        ({"path": "/f", "content": "a: 1\n", "mode": "0644"}, False),
        ({"path": "/f", "content": "a: 2\n", "mode": "0644"}, True),
        ({"path": "/f", "content": "a: 1", "mode": "0644"}, True),       # the newline counts
        ({"path": "/f", "content": "a: 1\n", "mode": "0600"}, True),
        ({"path": "/f", "mode": "0644"}, False),                          # content not compared
        ({"path": "/g", "content": "x", "mode": "0640", "gid": 65534}, False),
        ({"path": "/g", "content": "x", "mode": "0640"}, True),           # group root expected
        ({"path": "/d", "mode": "0755", "directory": True}, False),
        ({"path": "/d", "mode": "0700", "directory": True}, True),
        ({"path": "/d", "content": "x"}, True),                           # a directory where a file belongs
        ({"path": "/f", "directory": True}, True),                        # and the reverse
        ({"path": "/m", "content": ""}, True),
        ({"path": "/m", "directory": True}, True),
    ],
)
def test_differs(kwargs, differs):
    assert host_state_differs(STATE, **kwargs) is differs


def test_a_path_that_was_not_read_is_an_error_not_a_guess():
    with pytest.raises(AnsibleFilterError, match="/nowhere was not read"):
        host_state_differs(STATE, "/nowhere")


def test_stale_keeps_order_and_applies_defaults():
    wanted = ["/m", "/d", {"path": "/f", "content": "changed", "directory": False}, {"path": "/g", "mode": "0640",
                                                                                     "gid": 65534, "directory": False}]
    assert host_state_stale(STATE, wanted, mode="0755", directory=True) == [
        {"path": "/m"}, {"path": "/f", "content": "changed", "directory": False}]
