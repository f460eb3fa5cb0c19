# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the answer of microops.stack.host_state: which paths differ from what a role
wants, so that it runs a task only there. Documentation: the .yml files of the same names."""

from __future__ import annotations

import hashlib

from ansible.errors import AnsibleFilterError


def _path(state, path):
    try:
        return state["paths"][path]
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"host_state_differs: {path} was not read by microops.stack.host_state") from exc


def _differs(found, content, mode, uid, gid, directory):
    if not found.get("exists") or bool(found.get("isdir")) != bool(directory):
        return True
    if mode is not None and found.get("mode") != mode:
        return True
    if (uid is not None and found.get("uid") != int(uid)) or (gid is not None and found.get("gid") != int(gid)):
        return True
    if content is not None:
        return found.get("checksum") != hashlib.sha1(content.encode("utf-8")).hexdigest()
    return False


def host_state_differs(state, path, content=None, mode=None, uid=0, gid=0, directory=False):
    """True when `path` on the host is not what the role writes: missing, a file where a
    directory belongs or the reverse, another mode or owner, or (with `content`) other content."""
    return _differs(_path(state, path), content, mode, uid, gid, directory)


def host_state_stale(state, wanted, mode=None, uid=0, gid=0, directory=False):
    """The entries of `wanted` whose path differs on the host, in order, each as a dict with
    path (the loop of a task that writes them). An entry is a path, or a dict with path and
    optionally content, mode, uid, gid, directory; the other arguments are the defaults."""
    stale = []
    for entry in wanted:
        entry = {"path": entry} if isinstance(entry, str) else dict(entry)
        settings = {"mode": mode, "uid": uid, "gid": gid, "directory": directory, **entry}
        if _differs(_path(state, settings["path"]), settings.get("content"), settings["mode"], settings["uid"],
                    settings["gid"], settings["directory"]):
            stale.append(entry)
    return stale


class FilterModule:
    def filters(self):
        return {
            "host_state_differs": host_state_differs,
            "host_state_stale": host_state_stale,
        }
