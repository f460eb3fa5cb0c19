# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every Grafana module; the argument spec is grafana_argument_spec() in
    # module_utils/_grafana.py, so both change together.
    DOCUMENTATION = r"""
options:
  grafana_url:
    description:
      - Base URL of Grafana, for example V(http://127.0.0.1:3000), with its sub path when Grafana
        is served under one (V(https://ops.example.org/grafana)).
    type: str
    required: true
  url_username:
    description:
      - Grafana user for HTTP basic authentication, for example V(admin).
      - Sent with the first request, because Grafana answers a request without credentials
        with 401 and no C(WWW-Authenticate) challenge.
      - Mutually exclusive with O(grafana_token).
    type: str
  url_password:
    description:
      - Password of O(url_username).
    type: str
  grafana_token:
    description:
      - Service account token, sent in the C(Authorization) header as a bearer token.
      - A service account, and so its token, belongs to one organisation; requests for another
        organisation are refused with 401.
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
  validate_certs:
    description:
      - Whether to verify Grafana's TLS certificate.
    type: bool
    default: true
  client_cert:
    description:
      - PEM file with a client certificate for TLS client authentication; may also hold the key.
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert), when that file does not hold it.
    type: path
notes:
  - One of O(url_username) (with O(url_password)) or O(grafana_token) is required.
  - Requests are made with Ansible's own HTTP client; nothing needs to be installed on the target.
"""
