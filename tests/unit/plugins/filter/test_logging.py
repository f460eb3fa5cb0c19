# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.logging import (
    logging_heap_error,
    logging_heap_mb,
    logging_reserved_mb,
)


def test_reserved_memory_follows_the_hosts_groups():
    assert logging_reserved_mb(["stack_hosts", "stack_logging"]) == 1536
    assert logging_reserved_mb(["stack_logging", "stack_monitoring", "stack_s3"]) == 1536 + 2048 + 1024


@pytest.mark.parametrize("memtotal, reserved, heap", [
    (8192, 1536, 3328),            # (8192 - 1536) / 2 = 3328, a multiple of 256
    (8000, 4608, 1536),            # 1696 rounded down to 256
    (200000, 1536, 31 * 1024),     # capped below the compressed-pointer limit
    (2600, 1536, 512),             # the floor, when the host still has twice that
])
def test_heap_is_half_of_what_is_left(memtotal, reserved, heap):
    assert logging_heap_mb("", memtotal, reserved) == heap


def test_a_host_too_small_is_refused_naming_found_and_needed():
    message = logging_heap_error("", 2048, 1536)
    assert message == ("this host has 2048 MB of memory; Elasticsearch with a 512 MB heap needs 1024 MB "
                       "beside the 1536 MB taken by the other stack servers it runs, Kibana and the system: "
                       "2560 MB in all")
    with pytest.raises(AnsibleFilterError):
        logging_heap_mb("", 2048, 1536)


@pytest.mark.parametrize("heap, mb", [("2g", 2048), ("1536m", 1536), ("512M", 512), ("31g", 31744)])
def test_a_set_heap_is_taken_as_it_is(heap, mb):
    assert logging_heap_mb(heap, 128000, 1536) == mb


@pytest.mark.parametrize("heap, message", [
    ("2GB", "logging_elasticsearch_heap must be a size in m or g, such as 2g or 1536m, got '2GB'"),
    ("256m", "logging_elasticsearch_heap must be between 512m and 31g, got 256m"),
    ("32g", "logging_elasticsearch_heap must be between 512m and 31g, got 32g"),
])
def test_a_bad_heap_is_named(heap, message):
    assert logging_heap_error(heap, 128000, 1536) == message


def test_a_set_heap_must_fit_the_host():
    assert "needs 8192 MB" in logging_heap_error("4g", 8192, 1536)
