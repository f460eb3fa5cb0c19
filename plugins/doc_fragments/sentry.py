# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Connection options of every Sentry module; the argument spec is sentry_argument_spec() in
    # module_utils/_sentry.py, so both change together.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of GlitchTip or Sentry, without C(/api/0/), for example V(http://10.0.0.7:8000).
    type: str
    required: true
  api_token:
    description:
      - API token (GlitchTip) or auth token (Sentry), sent in the C(Authorization) header as a
        bearer token.
      - Needs the scopes C(org:read), C(team:read) and C(project:read) to read, and for the
        writes C(org:write) (creating an organisation), C(team:write) (a team),
        C(project:write) (a project, or a change of its name or platform) and C(project:admin)
        (deleting a project). GlitchTip also requires its user to be an admin or owner of the
        organisation to create teams and projects and to delete projects.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate that signed the server's TLS certificate.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer.
    type: int
    default: 30
notes:
  - GlitchTip and Sentry share the C(/api/0/) paths this uses; every path ends with C(/), which
    GlitchTip requires.
  - Requests are made with Ansible's own HTTP client; nothing needs to be installed on the target.
"""
