# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every Elasticsearch module; the argument spec is
    # elasticsearch_argument_spec() in module_utils/_elasticsearch.py, so both change together.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of Elasticsearch's HTTP API, for example V(https://10.0.0.5:9200).
    type: str
    required: true
  url_username:
    description:
      - User for HTTP basic authentication, for example V(elastic).
      - Mutually exclusive with O(api_key).
    type: str
  url_password:
    description:
      - Password of O(url_username).
    type: str
  api_key:
    description:
      - API key, the base64 encoded C(id:api_key) that Elasticsearch returns as C(encoded),
        sent in the C(Authorization) header as C(ApiKey <key>).
      - Mutually exclusive with O(url_username) and O(url_password).
    type: str
  ca_path:
    description:
      - PEM file with the CA certificate that signed Elasticsearch's HTTP certificate, for
        example the stack's V(/etc/microops/logging/ca.crt).
    type: path
  validate_certs:
    description:
      - Whether to verify Elasticsearch's TLS certificate.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each answer.
    type: int
    default: 30
notes:
  - One of O(url_username) (with O(url_password)) or O(api_key) is required.
  - Requests are made with Ansible's own HTTP client; nothing needs to be installed on the target.
"""
