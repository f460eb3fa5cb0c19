from ansible_collections.microops.stack.plugins.filter.monitoring import monitoring_agent_job


def test_one_target_per_host_labelled_with_its_inventory_name():
    job = monitoring_agent_job({"job": "node", "port": 9100}, [("10.0.0.5", "web-1"), ("10.0.0.6", "db-1")])
    assert job == {
        "job_name": "node",
        "static_configs": [
            {"targets": ["10.0.0.5:9100"], "labels": {"instance": "web-1"}},
            {"targets": ["10.0.0.6:9100"], "labels": {"instance": "db-1"}},
        ],
    }


def test_ipv6_addresses_are_bracketed():
    job = monitoring_agent_job({"job": "docker", "port": 9323}, [("fd00::5", "web-1")])
    assert job["static_configs"][0]["targets"] == ["[fd00::5]:9323"]


def test_static_target_for_one_host():
    from ansible_collections.microops.stack.plugins.filter.monitoring import monitoring_static_target

    assert monitoring_static_target({"host": "ops-1", "address": "10.0.0.7", "authority": "10.0.0.7:9000"}) == {
        "targets": ["10.0.0.7:9000"], "labels": {"instance": "ops-1"}}
