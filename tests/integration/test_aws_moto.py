# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/provision_aws.yml and teardown_aws.yml against a real EC2 API server on loopback:
moto's server (moto[server]), every amazon.aws module pointed at it by aws_endpoint_url. The
same inventory plugin configuration as inventories/production/aws_ec2.yml lists the hosts.
What moto cannot show is not claimed: the instances do not boot, and AWS's own AMIs are moto's
copies of them (Amazon Linux 2023 by owner and name)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import yaml

from ansible_collections.microops.stack.plugins.filter.aws import aws_stack_ports

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REGION = "eu-west-1"
ADMIN = "198.51.100.0/24"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0n4QnQK7+XyC1g+Qw4N0M7S3hFf6dI9v2Yz8y6A7B test@example"
LAYOUT = [{"name": "ops", "groups": ["monitoring", "sentry"]},
          {"name": "data", "groups": ["logging", "s3"]},
          {"name": "app", "groups": ["services", "edge"], "instance_type": "t3.medium"}]


@pytest.fixture(scope="module")
def moto():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for dummy in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def env():
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
                AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)


def inventory(tmp_path, moto, **extra):
    (tmp_path / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    settings = {"stack_env": "production", "aws_endpoint_url": moto, "aws_region": REGION, "aws_os": "al2023",
                "aws_admin_cidr": ADMIN, "aws_public_key": KEY, "aws_instances": LAYOUT,
                "aws_public_subnets": [{"cidr": "10.42.1.0/24", "zone": "a"}, {"cidr": "10.42.2.0/24", "zone": "b"}],
                **extra}
    (tmp_path / "group_vars" / "all" / "aws.yml").write_text(yaml.safe_dump(settings))
    (tmp_path / "hosts.yml").write_text("all: {}\n")
    return str(tmp_path / "hosts.yml")


def playbook(env, hosts, name, *args):
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", hosts, str(ROOT / "playbooks" / name), *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    return result.returncode, result.stdout + result.stderr


def ec2(moto):
    return boto3.client("ec2", region_name=REGION, endpoint_url=moto,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def tagged(client, kind):
    filters = [{"Name": "tag:microops:stack", "Values": ["microops"]}]
    if kind == "instances":
        return [i for r in client.describe_instances(Filters=filters + [
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
            for i in r["Instances"]]
    return {"vpcs": lambda: client.describe_vpcs(Filters=filters)["Vpcs"],
            "subnets": lambda: client.describe_subnets(Filters=filters)["Subnets"],
            "groups": lambda: client.describe_security_groups(Filters=filters)["SecurityGroups"],
            "keys": lambda: client.describe_key_pairs(Filters=filters)["KeyPairs"]}[kind]()


def test_bad_input_is_refused_before_anything_is_made(tmp_path, moto, env):
    hosts = inventory(tmp_path, moto, aws_admin_cidr="0.0.0.0/0",
                      aws_instances=LAYOUT + [{"name": "ops", "groups": ["sentry", "dns"]}])
    rc, output = playbook(env, hosts, "provision_aws.yml")
    flat = " ".join(output.split())
    assert rc != 0
    assert "instance ops: name is used twice" in flat, output[-2000:]
    assert "instance ops: group 'dns' is not one of s3, monitoring, logging, sentry, services" in flat
    assert "instance ops: group sentry is already on instance ops (one host only)" in flat
    assert "aws_admin_cidr is required" in flat
    assert tagged(ec2(moto), "vpcs") == []


def test_split_layout_from_nothing_checked_listed_idempotent_and_torn_down(tmp_path, moto, env):
    hosts = inventory(tmp_path, moto)
    rc, output = playbook(env, hosts, "provision_aws.yml")
    assert rc == 0, output[-3000:]
    assert "Next: ansible-playbook site.yml -i inventories/production --ask-vault-pass -e ansible_user=ec2-user" \
        in output
    client = ec2(moto)
    vpc = tagged(client, "vpcs")
    assert [v["CidrBlock"] for v in vpc] == ["10.42.0.0/16"]
    subnets = tagged(client, "subnets")
    assert sorted((s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"]) for s in subnets) == [
        ("10.42.1.0/24", "eu-west-1a", True), ("10.42.2.0/24", "eu-west-1b", True)]
    routes = client.describe_route_tables(Filters=[{"Name": "tag:microops:stack", "Values": ["microops"]}])
    assert any(r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId", "").startswith("igw-")
               for table in routes["RouteTables"] for r in table["Routes"])

    groups = {g["GroupName"]: g for g in tagged(client, "groups")}
    assert set(groups) == {"microops-stack", "microops-public"}
    stack = groups["microops-stack"]
    rules = {(p["FromPort"], p["ToPort"], tuple(sorted(r["CidrIp"] for r in p.get("IpRanges", []))),
              tuple(sorted(r["GroupId"] for r in p.get("UserIdGroupPairs", []))))
             for p in stack["IpPermissions"]}
    # SSH from the admins; every port of the roles' table (and the Elasticsearch transport) from
    # the group's own members; nothing else.
    # Behind the edge, the gateway's port (aws_public_ports) from stack instances only: the proxy's upstream.
    group_ports = [*aws_stack_ports({}), 5921]
    expected = {(22, 22, (ADMIN,), ())} | {(port, port, (), (stack["GroupId"],)) for port in group_ports}
    assert rules == expected
    assert {9090, 9200, 9300, 8000, 8333, 9100}.issubset(aws_stack_ports({}))
    public = groups["microops-public"]["IpPermissions"]
    # With an edge instance: the proxy's 80 and 443, not the services' own ports (aws_public_ports).
    assert sorted((p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in public) == [
        (80, ["0.0.0.0/0"]), (443, ["0.0.0.0/0"])]
    open_to_all = [p["FromPort"] for g in groups.values() for p in g["IpPermissions"]
                   if any(r["CidrIp"] == "0.0.0.0/0" for r in p.get("IpRanges", []))]
    assert sorted(open_to_all) == [80, 443]
    assert [k["KeyName"] for k in tagged(client, "keys")] == ["microops"]

    instances = {next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"): i for i in tagged(client, "instances")}
    assert set(instances) == {"ops", "data", "app"}
    for name, instance in instances.items():
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert tags["microops:groups"] == ",".join(next(i["groups"] for i in LAYOUT if i["name"] == name))
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        attribute = client.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="disableApiTermination")
        assert attribute["DisableApiTermination"]["Value"] is True, name
        volumes = client.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])
        assert [v["Encrypted"] for v in volumes["Volumes"]] == [True], name
        on = [g["GroupId"] for g in instance["SecurityGroups"]]
        assert (groups["microops-public"]["GroupId"] in on) == (name == "app"), on
    assert instances["app"]["InstanceType"] == "t3.medium"
    assert instances["ops"]["InstanceType"] == "t3.large"

    rc, output = playbook(env, hosts, "provision_aws.yml")
    assert rc == 0 and "changed=0" in output, output[-3000:]
    # Check mode on the provisioned stack: only the key pair reports a change, because
    # amazon.aws.ec2_key compares an imported key only by importing it, which check mode skips.
    rc, output = playbook(env, hosts, "provision_aws.yml", "--check", "--diff")
    lines = output.splitlines()
    changed = [i for i, line in enumerate(lines) if line.startswith("changed:")]
    assert rc == 0 and len(changed) == 1, output[-3000:]
    task = [line for line in lines[:changed[0]] if line.startswith("TASK [")][-1]
    assert task.startswith("TASK [microops.stack.aws : Import the key pair]"), task

    # The production inventory's plugin configuration, pointed at the same server.
    config = yaml.safe_load((ROOT / "inventories" / "production" / "aws_ec2.yml").read_text())
    config.update(endpoint_url=moto, regions=[REGION])
    (tmp_path / "aws_ec2.yml").write_text(yaml.safe_dump(config))
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(tmp_path / "aws_ec2.yml"), "--list"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120)
    found = json.loads(listed.stdout)
    assert {g: sorted(found[g]["hosts"]) for g in found if g.startswith("stack_")} == {
        "stack_hosts": ["app", "data", "ops"], "stack_logging": ["data"], "stack_monitoring": ["ops"],
        "stack_s3": ["data"], "stack_sentry": ["ops"], "stack_services": ["app"], "stack_edge": ["app"]}
    # ansible-inventory marks values it read from the API as unsafe ({"__ansible_unsafe": ...}).
    addresses = {host: values["stack_private_address"].get("__ansible_unsafe")
                 for host, values in found["_meta"]["hostvars"].items()}
    assert addresses == {name: i["PrivateIpAddress"] for name, i in instances.items()}

    rc, output = playbook(env, hosts, "teardown_aws.yml")
    assert rc != 0 and "set aws_teardown_confirm=microops to confirm" in " ".join(output.split())
    assert len(tagged(client, "instances")) == 3
    rc, output = playbook(env, hosts, "teardown_aws.yml", "-e", "aws_teardown_confirm=microops")
    assert rc == 0, output[-3000:]
    assert {kind: tagged(client, kind) for kind in ("instances", "vpcs", "subnets", "groups", "keys")} == {
        "instances": [], "vpcs": [], "subnets": [], "groups": [], "keys": []}
