import io
import json
from unittest import mock
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.microops.stack.plugins.module_utils import _http
from ansible_collections.microops.stack.plugins.module_utils._http import HttpClient, HttpError, error_message, path_quote


def http_error(code, body):
    return HTTPError("http://g/x", code, "reason", {}, io.BytesIO(body))


def test_send_returns_status_and_body():
    response = mock.MagicMock()
    response.getcode.return_value = 200
    response.read.return_value = b'{"a": 1}'
    with mock.patch.object(_http, "open_url", return_value=response) as open_url:
        assert _http.send("GET", "http://g/x", headers={"H": "v"}, validate_certs=False) == (200, b'{"a": 1}')
    assert open_url.call_count == 1
    assert open_url.call_args == mock.call("http://g/x", data=None, headers={"H": "v"}, method="GET", validate_certs=False)


def test_send_returns_http_errors_instead_of_raising():
    with mock.patch.object(_http, "open_url", side_effect=http_error(404, b'{"message":"Data source not found"}')):
        assert _http.send("GET", "http://g/x") == (404, b'{"message":"Data source not found"}')


def test_exchange_also_returns_the_headers_with_lower_case_names():
    response = mock.MagicMock()
    response.getcode.return_value = 200
    response.headers = {"Link": "<http://g/x?cursor=1>; rel=\"next\"", "X-Hits": "51"}
    response.read.return_value = b"[]"
    with mock.patch.object(_http, "open_url", return_value=response):
        assert _http.exchange("GET", "http://g/x") == (
            200, {"link": "<http://g/x?cursor=1>; rel=\"next\"", "x-hits": "51"}, b"[]")
    error = HTTPError("http://g/x", 401, "reason", {"WWW-Authenticate": "Bearer"}, io.BytesIO(b"{}"))
    with mock.patch.object(_http, "open_url", side_effect=error):
        assert _http.exchange("GET", "http://g/x") == (401, {"www-authenticate": "Bearer"}, b"{}")


@pytest.mark.parametrize("exc", [URLError("Connection refused"), OSError("timed out")])
def test_send_raises_without_an_answer(exc):
    with mock.patch.object(_http, "open_url", side_effect=exc):
        with pytest.raises(HttpError) as info:
            _http.send("GET", "http://g/x")
    assert info.value.status is None
    assert str(info.value).startswith("GET http://g/x failed: ")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"message":"Data source not found"}', "Data source not found"),
        (b'{"message":"Invalid API key","messageId":"api-key.invalid"}', "Invalid API key"),
        (b"<html>bad gateway</html>", "<html>bad gateway</html>"),
        (b'{"error":"x"}', '{"error":"x"}'),
        (b"", "fallback"),
        ("text", "text"),
    ],
)
def test_error_message(body, expected):
    assert error_message(body, default="fallback") == expected


def test_path_quote_escapes_every_reserved_character():
    assert path_quote("a b/c?d") == "a%20b%2Fc%3Fd"


def test_request_sends_json_with_headers_and_basic_auth_up_front():
    client = HttpClient("http://g:3000/sub/", headers={"X-H": "1"}, url_username="admin", url_password="pw",
                        validate_certs=False, client_cert="/c.pem", client_key="/k.pem")
    with mock.patch.object(_http, "send", return_value=(200, b'{"ok": true}')) as send:
        assert client.request("POST", "/api/x", body={"a": 1}) == (200, {"ok": True})
    assert send.call_count == 1
    args, kwargs = send.call_args
    assert args == ("POST", "http://g:3000/sub/api/x")
    assert json.loads(kwargs.pop("data")) == {"a": 1}
    assert kwargs == {
        "headers": {"X-H": "1", "Accept": "application/json", "Content-Type": "application/json"},
        "url_username": "admin", "url_password": "pw", "force_basic_auth": True,
        "validate_certs": False, "client_cert": "/c.pem", "client_key": "/k.pem", "timeout": _http.DEFAULT_TIMEOUT,
    }


def test_request_without_username_sends_no_basic_auth():
    client = HttpClient("http://g", headers={"Authorization": "Bearer t"})
    with mock.patch.object(_http, "send", return_value=(200, b"")) as send:
        assert client.request("GET", "api/x") == (200, None)
    kwargs = send.call_args[1]
    assert "force_basic_auth" not in kwargs and "url_username" not in kwargs
    assert kwargs["data"] is None
    assert kwargs["headers"] == {"Authorization": "Bearer t", "Accept": "application/json"}


def test_request_raises_with_url_status_and_message():
    client = HttpClient("http://g")
    with mock.patch.object(_http, "send", return_value=(403, b'{"message":"Cannot update read-only data source"}')):
        with pytest.raises(HttpError) as info:
            client.request("PUT", "api/datasources/uid/p", body={})
    assert info.value.status == 403
    assert str(info.value) == "PUT http://g/api/datasources/uid/p: HTTP 403: Cannot update read-only data source"


def test_request_allowed_status_is_returned():
    client = HttpClient("http://g")
    with mock.patch.object(_http, "send", return_value=(404, b'{"message":"Data source not found"}')):
        assert client.request("GET", "api/x", allow=(404,)) == (404, {"message": "Data source not found"})
