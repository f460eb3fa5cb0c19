import pytest
from ansible_collections.microops.stack.plugins.filter.monitoring import (
    monitoring_s3_jobs,
    monitoring_engine_targets,
    monitoring_static_target,
)


def test_static_target_for_one_host():
    assert monitoring_static_target({"host": "ops-1", "address": "10.0.0.7", "authority": "10.0.0.7:9000"}) == {
        "targets": ["10.0.0.7:9000"], "labels": {"instance": "ops-1"}}


def _engine(address):
    return {"ansible_local": {"microops_docker": {"metrics_addr": address}}}


def test_engine_targets_only_where_the_fact_gives_an_address():
    hostvars = {
        "web-1": _engine("10.0.0.5:9323"),
        "web-2": _engine(""),               # metrics off
        "db-1": {"ansible_local": {}},      # engine not managed by the docker role
        "db-2": {},                         # facts without local facts
        "ops-1": _engine("[fd00::7]:9323"),
        "other": _engine("10.9.9.9:9323"),  # not a stack host
    }
    groups = {"stack_hosts": ["web-1", "web-2", "db-1", "db-2", "ops-1"]}
    assert monitoring_engine_targets(hostvars, groups) == [
        {"targets": ["10.0.0.5:9323"], "labels": {"instance": "web-1"}},
        {"targets": ["[fd00::7]:9323"], "labels": {"instance": "ops-1"}},
    ]


def test_no_stack_hosts_no_engine_targets():
    assert monitoring_engine_targets({}, {}) == []


PAGE = """# HELP prometheus_config_last_reload_successful Whether the last reload attempt was successful.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 1
prometheus_config_last_reload_success_timestamp_seconds 1.7647296e+09
prometheus_http_requests_total{code="200",handler="/metrics"} 4
"""


def test_metric_value_of_an_unlabelled_sample():
    from ansible_collections.microops.stack.plugins.filter.monitoring import monitoring_metric

    assert monitoring_metric(PAGE, "prometheus_config_last_reload_success_timestamp_seconds") == 1764729600.0
    assert monitoring_metric(PAGE, "prometheus_config_last_reload_successful") == 1.0
    # A name that is only a prefix of another, a labelled sample, or no page: no value.
    assert monitoring_metric(PAGE, "prometheus_config_last_reload") is None
    assert monitoring_metric(PAGE, "prometheus_http_requests_total") is None
    assert monitoring_metric(None, "up") is None


S3_METRICS = [{"authority": "10.0.0.5:9327", "host": "ops-1"}]


def test_s3_job_follows_the_server():
    assert monitoring_s3_jobs(S3_METRICS, "seaweedfs", "/t") == [
        {"job_name": "seaweedfs", "static_configs": [{"targets": ["10.0.0.5:9327"], "labels": {"instance": "ops-1"}}]}]
    (minio,) = monitoring_s3_jobs(S3_METRICS, "minio", "/etc/prometheus/minio.token")
    assert minio["job_name"] == "minio" and minio["metrics_path"] == "/minio/v2/metrics/cluster"
    assert minio["authorization"] == {"credentials_file": "/etc/prometheus/minio.token"}


@pytest.mark.parametrize("endpoints, server", [(S3_METRICS, "external"), ([], "minio"), ([], "seaweedfs")])
def test_no_s3_job_for_an_external_server_or_no_host(endpoints, server):
    assert monitoring_s3_jobs(endpoints, server, "/t") == []
