import base64
import hashlib
import hmac
import json

from ansible_collections.microops.stack.plugins.filter.minio import minio_prometheus_token


def decode(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_token_is_an_hs512_jwt_signed_with_the_secret():
    token = minio_prometheus_token("admin-user", "s3cret-password")
    header, claims, signature = token.split(".")
    assert decode(header) == {"alg": "HS512", "typ": "JWT"}
    assert decode(claims) == {"exp": 4102444800, "sub": "admin-user", "iss": "prometheus"}
    expected = hmac.new(b"s3cret-password", f"{header}.{claims}".encode(), hashlib.sha512).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_same_credentials_same_token_other_secret_other_token():
    assert minio_prometheus_token("a-user", "password1") == minio_prometheus_token("a-user", "password1")
    assert minio_prometheus_token("a-user", "password1") != minio_prometheus_token("a-user", "password2")
