# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: whether a registry serves an image, without pulling it (images_available).

The registry HTTP API (the OCI distribution specification, "Pulling manifests"): HEAD
/v2/<repository>/manifests/<tag or digest> answers 200 when the image exists. A registry that
wants a token answers 401 with `WWW-Authenticate: Bearer realm=...,service=...`; the token comes
from the realm with `scope=repository:<repository>:pull` (Docker's token authentication
specification), anonymously or with the credentials `docker login` left in the Docker config
file. Docker Hub does not count HEAD requests against its pull rate limit."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlencode

from ansible_collections.microops.stack.plugins.module_utils._http import HttpError, exchange

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# The key `docker login` writes Docker Hub's credentials under in config.json.
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
# Every manifest kind a pull accepts: an index or list first (multi-platform), then single images.
ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_reference(reference):
    """(registry, repository, tag or digest) of an image reference as Docker normalises it:
    no registry is Docker Hub, where a one-part name is under library/; no tag is latest."""
    name, dummy, digest = str(reference).partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, name
    last = path.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    return registry, path, digest or tag or "latest"


def credentials(config, registry):
    """The base64 user:password `docker login` stored for `registry` in a Docker config.json
    (parsed), or None (credential helpers are not read)."""
    auths = (config or {}).get("auths") or {}
    keys = (DOCKER_HUB_AUTH_KEY, DOCKER_HUB, "index.docker.io") if registry == DOCKER_HUB else (
        registry, "https://" + registry, "http://" + registry)
    for key in keys:
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            return entry["auth"]
        if isinstance(entry, dict) and entry.get("username") and entry.get("password"):
            return base64.b64encode(f"{entry['username']}:{entry['password']}".encode()).decode()
    return None


def _token(challenge, repository, auth, timeout):
    params = dict(CHALLENGE_PARAM.findall(challenge))
    realm = params.pop("realm", None)
    if not realm:
        return None, "the registry asked for credentials without saying where to get a token"
    query = {key: value for key, value in params.items() if key == "service"}
    query["scope"] = f"repository:{repository}:pull"
    headers = {"Authorization": "Basic " + auth} if auth else {}
    status, dummy, body = exchange("GET", realm + "?" + urlencode(query), headers=headers, timeout=timeout)
    if status != 200:
        return None, f"its token service answered HTTP {status}"
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return None, "its token service answered something that is not JSON"
    return answer.get("token") or answer.get("access_token"), None


def available(reference, config=None, timeout=10, mirrors=()):
    """(True, None) when the registry serves `reference`, else (False, why) in words a person can
    act on. Network failures raise HttpError (the caller keeps one per registry).

    Docker Hub's images are asked of the engine's `registry-mirrors` first, as dockerd pulls them
    (a host may reach Docker Hub through a mirror only); the first that serves it answers."""
    registry, repository, ref = parse_reference(reference)
    if registry == DOCKER_HUB:
        for mirror in mirrors:
            try:
                if _ask(f"{str(mirror).rstrip('/')}/v2/{repository}/manifests/{ref}", registry, repository, ref,
                        None, timeout)[0]:
                    return True, None
            except HttpError:
                continue
    host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
    return _ask(f"https://{host}/v2/{repository}/manifests/{ref}", registry, repository, ref,
                credentials(config, registry), timeout)


def _ask(url, registry, repository, ref, auth, timeout):
    headers = {"Accept": ACCEPT}
    status, answer_headers, dummy = exchange("HEAD", url, headers=headers, timeout=timeout)
    if status == 401:
        challenge = answer_headers.get("www-authenticate", "")
        if challenge.lower().startswith("basic"):
            if not auth:
                return False, f"{registry} needs credentials: run docker login {registry} on the host"
            headers["Authorization"] = "Basic " + auth
        else:
            token, problem = _token(challenge, repository, auth, timeout)
            if problem:
                return False, f"{registry}: {problem}"
            if token:
                headers["Authorization"] = "Bearer " + token
        status, answer_headers, dummy = exchange("HEAD", url, headers=headers, timeout=timeout)
    if status == 200:
        return True, None
    if status in (401, 403):
        login = "docker login" if registry == DOCKER_HUB else f"docker login {registry}"
        return False, (f"{registry} refuses to serve {repository} to "
                       f"{'these credentials' if auth else 'anonymous pulls'} (HTTP {status}): "
                       f"run {login} on the host")
    if status == 404:
        return False, f"{registry} has no {repository}:{ref} (a misspelt name or tag?)"
    if status == 429:
        return False, f"{registry} limits this host's pulls now (HTTP 429): wait, or log in"
    return False, f"{registry} answered HTTP {status}"


__all__ = ["HttpError", "available", "credentials", "parse_reference"]
