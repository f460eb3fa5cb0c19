# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # The attribute ansible.builtin.action_common_attributes does not describe; used with it, so
    # each module states only its support.
    DOCUMENTATION = r"""
attributes:
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
"""
