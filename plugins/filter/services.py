# Copyright: microops.stack developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the services role: the user's services as the inventory declares them
(services_list), checked, and turned into containers and their wiring.

Documentation: the .yml files of the same names beside this file."""

from __future__ import annotations

import hashlib
import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.module_utils._s3 import bucket_name_error
from ansible_collections.microops.stack.plugins.filter.filebeat import DEFAULTS as FILEBEAT_DEFAULTS
from ansible_collections.microops.stack.plugins.filter.stack import (
    CONTAINERS, EDGE_PORTS, NETWORKS, S3_SERVER_DEFAULT, SECRETS_DIR, SERVICES, private_address, stack_s3)

# Docker's container names ([a-zA-Z0-9][a-zA-Z0-9_.-]+, daemon/names.go), kept to lower case so a
# name is also a valid DNS alias, Sentry slug and Prometheus label value.
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Docker's volume names (daemon/names.go RestrictedNamePattern).
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
FIELDS = {
    "name", "image", "command", "env", "secrets", "port", "public", "public_port", "networks",
    "depends_on", "volumes", "tmpfs", "healthcheck", "memory", "cpus", "user", "read_only",
    "metrics", "sentry", "bucket", "restart_policy",
}
BUCKET_OPTIONS = {
    "name", "versioning", "policy", "lifecycle_rules", "purge_lifecycle_rules", "tags", "purge_tags",
    "object_lock", "credentials",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period"}
# Docker's restart policies (docker run --restart).
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
# Where each service's secrets are kept (generated or vaulted, root-only) and the copies its
# container reads, owned by the user it runs as.
SERVICES_SECRETS = f"{SECRETS_DIR}/services"
SECRETS_MOUNT = "/run/secrets"
# The label the log shipper names a container's service by (plugins/filter/filebeat.py).
LABEL = FILEBEAT_DEFAULTS["service_label"]
MANAGED_LABEL = "com.microops.managed-by"
DEFINITION_LABEL = "com.microops.definition"
# The file the AWS SDKs read credentials from (AWS_SHARED_CREDENTIALS_FILE), for a service given
# its own S3 identity.
AWS_CREDENTIALS = "aws_credentials"


def _port(value):
    try:
        port = int(str(value)) if not isinstance(value, bool) else 0
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def _positive(value):
    try:
        return not isinstance(value, bool) and float(value) > 0
    except (TypeError, ValueError):
        return False


def _stack_ports(hostvars, groups, host):
    """{port: server} of the stack's servers that publish on this host (whatever the address:
    a service on 0.0.0.0 would collide with any of them)."""
    taken = {}
    # Of the S3 servers' entries (MinIO's API and console, SeaweedFS's S3 and metrics), those of
    # the container stack_s3_server runs here (none for external).
    s3_container = (SERVICES.get(hostvars[host].get("stack_s3_server", S3_SERVER_DEFAULT)) or {}).get("container")
    for server, spec in SERVICES.items():
        if spec["group"] == "stack_s3" and spec["container"] != s3_container:
            continue
        if host in (groups.get(spec["group"]) or []):
            port = _port(hostvars[host].get(spec["port_var"], spec["port"]))
            if port:
                taken.setdefault(port, server)
    if host in (groups.get("stack_edge") or []):
        for port, name in EDGE_PORTS.items():
            taken.setdefault(port, name)
    return taken


def _stack_containers():
    return {spec["container"] for spec in SERVICES.values() if spec["container"]} | set(CONTAINERS.values())


def _networks(service):
    """The stack networks (their names) a service joins: the services' own network always; the
    frontend when it is public, when it sends to servers on the hosts' addresses (an internal
    network has no route out: Docker neither routes from nor publishes ports on it), or when it
    asks; the stack's backend only when it asks."""
    asked = service.get("networks") or []
    needs_out = (service.get("public") or service.get("metrics") or service.get("sentry")
                 or service.get("bucket"))
    names = []
    if needs_out or NETWORKS["frontend"]["name"] in asked:
        names.append(NETWORKS["frontend"]["name"])
    names.append(NETWORKS["services"]["name"])
    if NETWORKS["backend"]["name"] in asked:
        names.append(NETWORKS["backend"]["name"])
    return names


def services_errors(services, hostvars, groups, host):
    """Every problem of `services` (services_list as `host` sees it), one message each, naming
    the service and the field; empty when it is right. Checked before any change."""
    errors = []
    if not isinstance(services, list):
        return [f"services_list must be a list of services, got {type(services).__name__}"]
    host_vars = hostvars[host]
    names = [s.get("name") if isinstance(s, dict) else None for s in services]
    known_networks = [n["name"] for n in NETWORKS.values()]
    stack_containers = _stack_containers()
    public_ports, metrics_ports = {}, {}
    # The S3 identities of the services on the other hosts (one identity store for all of them):
    # {access_key: service}. A service of the same name elsewhere is the same identity.
    access_keys = {}
    for other in [h for h in groups.get("stack_services") or [] if h != host]:
        for service in hostvars[other].get("services_list") or []:
            identity = _s3_identity(service)
            if identity and identity["credentials"][0]["accessKey"]:
                access_keys.setdefault(identity["credentials"][0]["accessKey"], service.get("name"))
    # Every public port of the list, whatever its order: a metrics port is checked against all.
    all_public = {}
    for service in services:
        if isinstance(service, dict) and service.get("public") is True:
            published = _port(service.get("public_port", service.get("port")))
            if published:
                all_public.setdefault(published, service.get("name"))
    stack_ports = _stack_ports(hostvars, groups, host)
    # Secrets a service may share with another (`from`): the ones a service keeps itself.
    owned = {f"{s.get('name')}/{x.get('name')}" for s in services if isinstance(s, dict)
             and isinstance(s.get("secrets"), list) for x in s["secrets"] if isinstance(x, dict) and "from" not in x}
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            errors.append(f"services_list[{index}] must be a dict with at least name and image")
            continue
        name = service.get("name")
        label = f"services_list[{index}]" if not isinstance(name, str) else f"service {name}"

        def err(message, label=label):
            errors.append(f"{label}: {message}")

        if not isinstance(name, str) or not NAME.match(name):
            err(f"name must be lower-case letters, digits, '.', '_' or '-' (a Docker container name), "
                f"got {name!r}")
        elif names.count(name) > 1:
            err("name is used by more than one service")
        elif name in stack_containers:
            err("name is a container of the stack itself; choose another")
        unknown = sorted(set(service) - FIELDS)
        if unknown:
            err(f"unknown field(s) {', '.join(unknown)} (expected {', '.join(sorted(FIELDS))})")
        if not isinstance(service.get("image"), str) or not service.get("image"):
            err("image is required (a pinned reference such as registry/name:tag)")
        for field in ("public", "sentry", "read_only"):
            if field in service and not isinstance(service[field], bool):
                err(f"{field} must be true or false, got {service[field]!r}")
        if "env" in service and not isinstance(service["env"], dict):
            err("env must be a dict of variable: value")
        elif isinstance(service.get("env"), dict):
            bad = sorted(k for k, v in service["env"].items() if isinstance(v, (dict, list)))
            if bad:
                err(f"env values must be strings or numbers: {', '.join(map(str, bad))}")
        if "command" in service and not isinstance(service["command"], (str, list)):
            err("command must be a string or a list of arguments")
        port = service.get("port")
        if port is not None and not _port(port):
            err(f"port must be a port number (1-65535), got {port!r}")
        public = service.get("public") is True
        if public and port is None:
            err("a public service needs its port (inside the container)")
        if "public_port" in service:
            if not public:
                err("public_port is set but the service is not public: only public services publish a port "
                    "(set public: true, or remove public_port)")
            elif not _port(service["public_port"]):
                err(f"public_port must be a port number (1-65535), got {service['public_port']!r}")
        if public and _port(service.get("public_port", port)):
            published = _port(service.get("public_port", port))
            if published in public_ports:
                err(f"public_port {published} is also published by service {public_ports[published]}")
            elif published in stack_ports:
                err(f"public_port {published} is the port of the stack's {stack_ports[published]} on this host")
            public_ports.setdefault(published, name)
        networks = service.get("networks", [])
        if not isinstance(networks, list):
            err(f"networks must be a list of {' or '.join(known_networks)}")
        else:
            for network in networks:
                if network not in known_networks:
                    err(f"network {network!r} is not a stack network (expected {' or '.join(known_networks)})")
        depends = service.get("depends_on", [])
        if not isinstance(depends, list):
            err("depends_on must be a list of service names")
        else:
            for other in depends:
                if other not in names:
                    err(f"depends_on names {other!r}, which is not a service in services_list")
                elif other == name:
                    err("depends_on names the service itself")
        for volume in service.get("volumes", []) if isinstance(service.get("volumes", []), list) else [None]:
            if not isinstance(volume, dict) or not isinstance(volume.get("name"), str) \
                    or not VOLUME_NAME.match(volume.get("name", "")) \
                    or not str(volume.get("path", "")).startswith("/"):
                err(f"volumes must be named volumes, each {{name, path}} with path absolute inside the container, "
                    f"got {volume!r}")
        tmpfs = service.get("tmpfs", [])
        if not isinstance(tmpfs, list) or not all(isinstance(p, str) and p.startswith("/") for p in tmpfs):
            err("tmpfs must be a list of absolute paths inside the container")
        healthcheck = service.get("healthcheck")
        if healthcheck is not None:
            if not isinstance(healthcheck, dict) or "test" not in healthcheck:
                err("healthcheck must be a dict with test (and optionally interval, timeout, retries, start_period)")
            elif set(healthcheck) - HEALTHCHECK_KEYS:
                err(f"healthcheck has unknown key(s) {', '.join(sorted(set(healthcheck) - HEALTHCHECK_KEYS))}")
        # With a unit: Docker reads a bare number as bytes, and refuses less than 6 MB.
        if "memory" in service and not re.match(r"^[0-9]+[kmg]$", str(service["memory"]).lower()):
            err(f"memory must be a size with its unit, such as 512m or 2g, got {service['memory']!r}")
        if "restart_policy" in service and service["restart_policy"] not in RESTART_POLICIES:
            err(f"restart_policy must be one of {', '.join(RESTART_POLICIES)} (quote \"no\" in YAML), "
                f"got {service['restart_policy']!r}")
        if "cpus" in service and not _positive(service["cpus"]):
            err(f"cpus must be a positive number, got {service['cpus']!r}")
        if "user" in service and not re.match(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$", str(service["user"])):
            err(f"user must be user[:group] (names or ids), got {service['user']!r}")
        secrets = service.get("secrets", [])
        if not isinstance(secrets, list):
            err("secrets must be a list of {name, value (optional, from Ansible Vault)}")
        else:
            secret_names = [s.get("name") if isinstance(s, dict) else None for s in secrets]
            for secret in secrets:
                if not isinstance(secret, dict) or not SECRET_NAME.match(str(secret.get("name", ""))) \
                        or set(secret) - {"name", "value", "length", "from", "owner"}:
                    err("each secret must be {name, value (optional, from Ansible Vault), length (optional), "
                        "from (optional, service/secret), owner (optional, uid[:gid])} with a name of letters, "
                        "digits, '.', '_' or '-'")
                elif "length" in secret and (isinstance(secret["length"], bool)
                                             or not str(secret["length"]).isdigit()
                                             or int(secret["length"]) < 8):
                    err(f"secret {secret['name']}: length must be a whole number of 8 or more "
                        f"(microops.stack.host_secret's minimum), got {secret['length']!r}")
                elif "owner" in secret and _user_ids(secret["owner"]) is None:
                    err(f"secret {secret['name']}: owner must be numeric uid[:gid], got {secret['owner']!r}")
                elif secret_names.count(secret["name"]) > 1 or secret["name"] == AWS_CREDENTIALS:
                    err(f"secret name {secret['name']} is used twice (or is reserved: {AWS_CREDENTIALS})")
                elif "from" in secret and "value" in secret:
                    err(f"secret {secret['name']}: from and value exclude each other (the value is the other service's)")
                elif "from" in secret and str(secret["from"]) not in owned:
                    err(f"secret {secret['name']}: from must name another service's secret as service/secret "
                        f"(one of {', '.join(sorted(owned)) or 'none'}), got {secret['from']!r}")
            # The copies are chowned to numeric ids: the engine maps a user name inside the image,
            # the host cannot, and a root-owned 0400 copy is unreadable to that user.
            unowned = [str(x.get("name")) for x in secrets if isinstance(x, dict) and "owner" not in x]
            if isinstance(service.get("bucket"), dict) and service["bucket"].get("credentials"):
                unowned.append(AWS_CREDENTIALS)
            if unowned and "user" in service and _user_ids(service["user"]) is None:
                err(f"user {service['user']!r} is a name, and the copies of {', '.join(unowned)} are owned by "
                    "numeric ids the container reads them as: give user as uid:gid (as the image's "
                    "`id` prints it), or an owner on each secret")
            if secrets and host_vars.get("stack_env") == "production":
                missing = [s["name"] for s in secrets if isinstance(s, dict) and not s.get("value") and "from" not in s]
                if missing:
                    err(f"secrets {', '.join(map(str, missing))} need a value in production (from Ansible Vault); "
                        "they are generated on the host only in local and development")
        metrics = service.get("metrics")
        if metrics is not None:
            mport = _port(metrics.get("port")) if isinstance(metrics, dict) else None
            if not mport:
                err("metrics must be {port, path (default /metrics)} with port a port number")
            elif not str(metrics.get("path", "/metrics")).startswith("/"):
                err(f"metrics.path must start with /, got {metrics.get('path')!r}")
            elif mport == _port(port) and not public:
                err(f"metrics.port {mport} is the service's own port: publishing it to the stack's hosts for "
                    "Prometheus would publish the service itself; serve metrics on a port of their own")
            elif not (public and mport == _port(port)):
                if mport in metrics_ports:
                    err(f"metrics.port {mport} is also used by service {metrics_ports[mport]} on this host")
                elif mport in stack_ports or mport in all_public:
                    err(f"metrics.port {mport} is taken on this host by "
                        f"{stack_ports.get(mport) or 'service ' + str(all_public.get(mport))}")
                metrics_ports.setdefault(mport, name)
        bucket = service.get("bucket")
        if bucket is not None:
            if not isinstance(bucket, dict):
                err("bucket must be a dict {name, versioning, ...} of microops.stack.minio_bucket options")
            else:
                problem = bucket_name_error(bucket.get("name"))
                if problem:
                    err(f"bucket.name: {problem}")
                if bucket.get("versioning", "enabled") not in ("enabled", "suspended"):
                    err(f"bucket.versioning must be enabled or suspended, got {bucket['versioning']!r}")
                if set(bucket) - BUCKET_OPTIONS:
                    err(f"bucket has unknown key(s) {', '.join(sorted(set(bucket) - BUCKET_OPTIONS))}")
                credentials = bucket.get("credentials")
                if credentials is not None and (
                        not isinstance(credentials, dict)
                        or not credentials.get("access_key") or not credentials.get("secret_key")):
                    err("bucket.credentials must be {access_key, secret_key}: the service's own S3 identity "
                        "(never the object store's root credentials)")
                elif credentials is not None:
                    # One identity per access key on the object store: a second would replace the first.
                    key = str(credentials["access_key"]).strip()
                    if access_keys.get(key, name) != name:
                        err(f"bucket.credentials.access_key is also service {access_keys[key]}'s: "
                            "each service needs an identity of its own")
                    access_keys.setdefault(key, name)
                if not groups.get("stack_s3") and host_vars.get("stack_s3_server") != "external":
                    err("bucket needs object storage: add a host to stack_s3, or set stack_s3_server: external")
        if service.get("sentry") is True:
            tracker = (groups.get("stack_sentry") or [None])[0]
            if tracker is None:
                err("sentry is true but the inventory has no stack_sentry host")
            elif hostvars[tracker].get("sentry_backend", "glitchtip") != "glitchtip":
                err("sentry is true but the error tracker is the self-hosted Sentry: projects are created only "
                    "in GlitchTip; give the service SENTRY_DSN in env instead")
    order_error = _cycle(services) if not errors else None
    if order_error:
        errors.append(order_error)
    return errors


def _cycle(services):
    try:
        services_order(services)
    except AnsibleFilterError as exc:
        return exc.message
    return None


def services_order(services):
    """The services in start order: each after the ones it depends on, otherwise as listed."""
    by_name = {s["name"]: s for s in services}
    done, order, path = set(), [], []

    def visit(name):
        if name in done:
            return
        if name in path:
            raise AnsibleFilterError(
                f"depends_on makes a cycle: {' -> '.join(path[path.index(name):] + [name])}")
        path.append(name)
        for other in by_name[name].get("depends_on", []):
            visit(other)
        path.pop()
        done.add(name)
        order.append(by_name[name])

    for service in services:
        visit(service["name"])
    return order


def _user_ids(user):
    """(uid, gid) of a numeric user[:group], else None: secret copies are owned by it."""
    if user is None:
        return (0, 0)
    uid, dummy, gid = str(user).partition(":")
    if uid.isdigit() and (not gid or gid.isdigit()):
        return (int(uid), int(gid or uid))
    return None


def services_containers(services, hostvars, groups, host, dsns=None):
    """The docker_container arguments of each service (in start order), with its wiring:
    networks, published ports, labels, secret mounts and the environment of the stack's
    servers (SENTRY_DSN from `dsns` {service: dsn}, S3_*). Keys not docker_container's:
    name_label (for loop labels)."""
    dsns = dsns or {}
    host_vars = hostvars[host]
    address = private_address(host_vars, brackets=True)
    s3 = None
    containers = []
    for service in services_order(services):
        name = service["name"]
        env = {key: str(value) for key, value in (service.get("env") or {}).items()}
        mounts = [{"type": "volume", "source": v["name"], "target": v["path"]} for v in service.get("volumes", [])]
        run_dir = f"{SERVICES_SECRETS}/run/{name}"
        for secret in service.get("secrets", []):
            mounts.append({"type": "bind", "source": f"{run_dir}/{secret['name']}",
                           "target": f"{SECRETS_MOUNT}/{secret['name']}", "read_only": True})
        if service.get("sentry"):
            env["SENTRY_DSN"] = dsns.get(name, "")
            env.setdefault("SENTRY_ENVIRONMENT", str(host_vars.get("stack_env", "")))
        bucket = service.get("bucket")
        if bucket:
            s3 = s3 or stack_s3(hostvars, groups, host)
            env.update({"S3_ENDPOINT": s3["endpoint"], "S3_BUCKET": bucket["name"], "S3_REGION": s3["region"]})
            if bucket.get("credentials"):
                env["AWS_SHARED_CREDENTIALS_FILE"] = f"{SECRETS_MOUNT}/{AWS_CREDENTIALS}"
                mounts.append({"type": "bind", "source": f"{run_dir}/{AWS_CREDENTIALS}",
                               "target": f"{SECRETS_MOUNT}/{AWS_CREDENTIALS}", "read_only": True})
        ports = []
        if service.get("public"):
            # Behind an edge proxy (group stack_edge), on the private address only: the proxy is
            # the front door (the one on this host reaches the container on the frontend network).
            bind = address if groups.get("stack_edge") else "0.0.0.0"
            ports.append(f"{bind}:{service.get('public_port', service['port'])}:{service['port']}")
        metrics = service.get("metrics")
        if metrics and not (service.get("public") and int(metrics["port"]) == int(service["port"])):
            ports.append(f"{address}:{metrics['port']}:{metrics['port']}")
        networks = [{"name": network, "aliases": [name]} for network in _networks(service)]
        container = {
            "name": name,
            "image": service["image"],
            "command": service.get("command"),
            "env": env,
            "mounts": mounts,
            "published_ports": ports,
            "networks": networks,
            "labels": {LABEL: name, MANAGED_LABEL: "microops.stack.services"},
            "healthcheck": service.get("healthcheck"),
            "memory": str(service["memory"]) if "memory" in service else None,
            "cpus": float(service["cpus"]) if "cpus" in service else None,
            "user": str(service["user"]) if "user" in service else None,
            "read_only": bool(service.get("read_only", False)),
            "tmpfs": service.get("tmpfs") or None,
            "restart_policy": service.get("restart_policy", "unless-stopped"),
        }
        # Options left out (a removed user, limit, health check or command) are not compared by
        # community.docker: a digest of the whole definition, in a label (labels are compared
        # strictly), makes any change, a removal too, recreate the container.
        digest = hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()
        container["labels"][DEFINITION_LABEL] = digest
        containers.append(container)
    return containers


def services_secret_files(services):
    """The secret files of every service: {service, name, path (root-only, kept), run (the copy the
    container reads), owner, group, value (vaulted, or None: generated), length, kind}. A service
    whose user is not numeric gets root-owned copies (the engine cannot map a user name)."""
    files = []
    for service in services:
        ids = _user_ids(service.get("user")) or (0, 0)
        run_dir = f"{SERVICES_SECRETS}/run/{service['name']}"
        for secret in service.get("secrets", []):
            # Owned by the secret's owner when given (an entrypoint that reads it after dropping
            # root, as MongoDB's does as uid 999), else by the service's user. A shared secret is
            # the other service's file: host_secret reads (or creates) it.
            owner = _user_ids(secret["owner"]) if secret.get("owner") else ids
            files.append({"service": service["name"], "name": secret["name"], "kind": "secret",
                          "path": secret.get("from") or f"{service['name']}/{secret['name']}",
                          "run": f"{run_dir}/{secret['name']}", "owner": owner[0], "group": owner[1],
                          "value": secret.get("value") or None, "length": int(secret.get("length", 32))})
        credentials = (service.get("bucket") or {}).get("credentials")
        if credentials:
            content = ("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
                       .format(str(credentials["access_key"]).strip(), str(credentials["secret_key"]).strip()))
            files.append({"service": service["name"], "name": AWS_CREDENTIALS, "kind": "s3",
                          "path": None, "run": f"{run_dir}/{AWS_CREDENTIALS}", "owner": ids[0], "group": ids[1],
                          "value": content, "length": 0})
    # Owners before the services that share their secrets: a vaulted value is written before a
    # sharer reads the file.
    return sorted(files, key=lambda f: f["path"] != f"{f['service']}/{f['name']}" and f["kind"] == "secret")


def services_started(secret_files, state):
    """For each service with secret files (services_secret_files): {file: where the checksums
    of the copies it was last started with are recorded, digest: the digest of its copies now,
    restart: whether they differ}. `state`: host_state's answer for the copies (paths) and the
    records (read); empty before it is read, when nothing is to be restarted."""
    paths, content = (state or {}).get("paths") or {}, (state or {}).get("content") or {}
    started = {}
    for entry in secret_files:
        started.setdefault(entry["service"], []).append(entry["run"])
    answer = {}
    for service, runs in started.items():
        record = f"{SERVICES_SECRETS}/run/{service}/.started"
        sums = ",".join(f"{run}={(paths.get(run) or {}).get('checksum')}" for run in sorted(runs))
        digest = hashlib.sha256(sums.encode()).hexdigest()
        answer[service] = {"file": record, "digest": digest,
                           "restart": bool(paths) and str(content.get(record) or "").strip() != digest}
    return answer


def services_file_sd(services, hostvars, host):
    """Prometheus file_sd target groups of this host's services that declare metrics, labelled
    service, instance (the inventory host) and env; scraped on the host's private address."""
    host_vars = hostvars[host]
    address = private_address(host_vars, brackets=True)
    groups = []
    # By name: the file changes only when a target does, not when the list is reordered.
    for service in sorted(services, key=lambda s: s["name"]):
        metrics = service.get("metrics")
        if not metrics:
            continue
        port = metrics["port"]
        if service.get("public") and int(port) == int(service["port"]):
            port = service.get("public_port", service["port"])
        labels = {"service": service["name"], "instance": host, "env": str(host_vars.get("stack_env", ""))}
        path = metrics.get("path", "/metrics")
        if path != "/metrics":
            labels["__metrics_path__"] = path
        groups.append({"targets": [f"{address}:{port}"], "labels": labels})
    return groups


def _s3_identity(service):
    """The SeaweedFS identity of a service given its own S3 credentials (bucket.credentials),
    allowed on its bucket only (weed's bucket-scoped actions, `weed s3 -h`); else None."""
    bucket = service.get("bucket") if isinstance(service, dict) else None
    credentials = bucket.get("credentials") if isinstance(bucket, dict) else None
    if not isinstance(credentials, dict):
        return None
    return {
        "name": f"service-{service.get('name')}",
        "credentials": [{"accessKey": str(credentials.get("access_key", "")).strip(),
                         "secretKey": str(credentials.get("secret_key", "")).strip()}],
        "actions": [f"{action}:{bucket.get('name')}" for action in ("Read", "Write", "List", "Tagging")],
    }


def services_s3_identities(hostvars, groups):
    """SeaweedFS identities for the services of every stack_services host that have their own S3
    credentials: the S3 server's role writes them. A service of one name is one identity."""
    identities, seen = [], set()
    for host in groups.get("stack_services") or []:
        for service in hostvars[host].get("services_list") or []:
            identity = _s3_identity(service)
            if identity and identity["name"] not in seen:
                seen.add(identity["name"])
                identities.append(identity)
    return identities


def services_s3_identities_missing(services, identities):
    """Names of the services whose own S3 identity is not, as they declare it, among
    `identities` (the content of SeaweedFS's identities file, as text or parsed): the S3 host
    has not been run since they were added or changed (a run limited to the services hosts)."""
    if isinstance(identities, str):
        try:
            identities = json.loads(identities or "{}")
        except ValueError:
            identities = {}
    present = identities.get("identities") or [] if isinstance(identities, dict) else []
    wanted = [(service["name"], _s3_identity(service)) for service in services]
    return [name for name, identity in wanted if identity and identity not in present]


class FilterModule:
    def filters(self):
        return {
            "services_errors": services_errors,
            "services_order": services_order,
            "services_containers": services_containers,
            "services_secret_files": services_secret_files,
            "services_file_sd": services_file_sd,
            "services_started": services_started,
            "services_s3_identities": services_s3_identities,
            "services_s3_identities_missing": services_s3_identities_missing,
        }
