# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for MinIO. Documentation: minio_prometheus_token.yml beside this file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

# A fixed expiry (2100-01-01) keeps the token the same on every run, so the file that holds it
# never changes by itself; `mc admin prometheus generate` uses now + 100 years.
EXPIRY = 4102444800


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def minio_prometheus_token(access_key, secret_key):
    """The bearer token MinIO accepts on its Prometheus endpoints when MINIO_PROMETHEUS_AUTH_TYPE
    is jwt: an HS512 JWT {exp, sub: access key, iss: prometheus} signed with the secret key
    (minio/mc cmd/utils.go)."""
    header = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = _b64(json.dumps({"exp": EXPIRY, "sub": access_key, "iss": "prometheus"},
                             separators=(",", ":")).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = _b64(hmac.new(secret_key.encode(), signing_input, hashlib.sha512).digest())
    return f"{header}.{claims}.{signature}"


class FilterModule:
    def filters(self):
        return {"minio_prometheus_token": minio_prometheus_token}
