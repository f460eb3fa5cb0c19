# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over S3 inputs, so roles can refuse them before any change.

Documentation: s3_bucket_name_error.yml beside this file."""

from __future__ import annotations

from ansible_collections.microops.stack.plugins.module_utils._s3 import bucket_name_error


def s3_bucket_name_error(name):
    return bucket_name_error(name) or ""


class FilterModule:
    def filters(self):
        return {"s3_bucket_name_error": s3_bucket_name_error}
