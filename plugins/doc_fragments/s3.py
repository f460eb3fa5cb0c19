# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every S3 module; the argument spec is s3_argument_spec() in
    # module_utils/_s3.py, so both change together.
    DOCUMENTATION = r"""
options:
  endpoint_url:
    description:
      - URL of the S3 API, for example V(http://127.0.0.1:9000) for MinIO or
        V(https://s3.eu-west-1.amazonaws.com) for AWS S3.
      - Requests use path-style addressing, which every S3-compatible server accepts.
    type: str
    required: true
  access_key:
    description:
      - Access key id. When unset, botocore's usual sources apply (environment, shared
        credentials file, instance profile).
    type: str
  secret_key:
    description:
      - Secret access key that goes with O(access_key).
    type: str
  region:
    description:
      - Region the requests are signed for and buckets are created in. MinIO's default region
        is V(us-east-1).
    type: str
    default: us-east-1
  validate_certs:
    description:
      - Whether to verify the endpoint's TLS certificate. Ignored when O(ca_path) is set.
    type: bool
    default: true
  ca_path:
    description:
      - File of CA certificates (PEM) to verify the endpoint's certificate with, for servers
        with a private CA.
    type: path
requirements:
  - boto3 >= 1.26 (botocore >= 1.29), as Debian 12 ships it
"""
