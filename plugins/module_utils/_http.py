# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private HTTP client shared by the collection's HTTP modules (Grafana, Elasticsearch, Kibana,
Sentry).

Everything goes through ansible.module_utils.urls, so nothing is installed on the target.
exchange() is the one function that touches the network, and send() is it without the answer's
headers: tests patch either and see every request exactly as it leaves (method, URL, headers,
body, auth options)."""

from __future__ import annotations

import json
import socket
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

DEFAULT_TIMEOUT = 30


class HttpError(Exception):
    """A failed request: the method, the URL, the HTTP status (None when no answer came) and the
    server's message. str() is one line fit for fail_json."""

    def __init__(self, method, url, status, message, data=None):
        super().__init__(message)
        self.method = method
        self.url = url
        self.status = status
        self.message = message
        self.data = data

    def __str__(self):
        if self.status is None:
            return "%s %s failed: %s" % (self.method, self.url, self.message)
        return "%s %s: HTTP %s: %s" % (self.method, self.url, self.status, self.message)


def exchange(method, url, data=None, headers=None, **options):
    """One request through open_url; (status, {lower-case header name: value}, body bytes) for
    every HTTP answer, errors included.

    Answers >= 400 are returned, not raised, so callers decide which statuses mean "absent".
    Failures without an answer (refused, TLS, timeout) raise HttpError with status None."""
    try:
        response = open_url(url, data=data, headers=headers, method=method, **options)
        return response.getcode(), _header_dict(response), response.read()
    except HTTPError as exc:
        try:
            body = exc.read()
        except Exception:  # a body that cannot be read leaves only the status to report
            body = b""
        return exc.code, _header_dict(exc), body
    except (URLError, SSLValidationError, UrlsConnectionError, socket.timeout, OSError) as exc:
        raise HttpError(method, url, None, str(getattr(exc, "reason", None) or exc)) from exc


def send(method, url, data=None, headers=None, **options):
    """exchange() without the answer's headers: (status, body bytes)."""
    status, dummy, body = exchange(method, url, data=data, headers=headers, **options)
    return status, body


def _header_dict(response):
    found = getattr(response, "headers", None) or {}
    try:
        return dict((name.lower(), value) for name, value in found.items())
    except AttributeError:
        return {}


def error_message(body, default=""):
    """The server's message from an error body: JSON `message` (Grafana, and most JSON APIs),
    else the start of the text, else `default`."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    body = (body or "").strip()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return body[:300] or default


def path_quote(segment):
    """One path segment, every reserved character escaped (names may hold / or spaces)."""
    return quote(str(segment), safe="")


class HttpClient:
    """JSON over HTTP against one base URL with fixed headers and credentials.

    Basic auth goes up front (force_basic_auth): servers such as Grafana never send a
    WWW-Authenticate challenge, so urllib's challenge-driven handler would never answer."""

    def __init__(self, base_url, headers=None, url_username=None, url_password=None, validate_certs=True,
                 client_cert=None, client_key=None, timeout=DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.options = dict(validate_certs=validate_certs, client_cert=client_cert, client_key=client_key,
                            timeout=timeout)
        if url_username:
            self.options.update(url_username=url_username, url_password=url_password or "", force_basic_auth=True)

    def url(self, path):
        return self.base_url + "/" + path.lstrip("/")

    def prepare(self, path, body=None):
        """(URL, headers, data) of a request sending `body` as JSON."""
        headers = dict(self.headers, Accept="application/json")
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        return self.url(path), headers, data

    def request(self, method, path, body=None, allow=()):
        """Send `body` as JSON; return (status, decoded JSON or None).

        Statuses >= 400 raise HttpError unless listed in `allow` (such as 404 for a lookup)."""
        url, headers, data = self.prepare(path, body)
        status, raw = send(method, url, data=data, headers=headers, **self.options)
        if status >= 400 and status not in allow:
            raise HttpError(method, url, status, error_message(raw, default="no message"), data=decode(raw))
        return status, decode(raw)


def decode(raw):
    """A body as decoded JSON, else as text; None when empty."""
    if not raw:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except ValueError:
        return raw
