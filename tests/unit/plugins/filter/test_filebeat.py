"""filebeat_config: the generated configuration checked against Filebeat 9's documented schema.

Filebeat cannot run here (neither Debian nor PyPI packages it), so the checker below encodes the
parts of the reference the configuration uses, each from its page (https://www.elastic.co/docs/
reference/beats/filebeat/<page>, sources in elastic/beats docs/reference/filebeat/<page>.md):
- filebeat-input-filestream.md: input options, unique ids, parsers and their options,
  file_identity methods, prospector.scanner.*; filebeat-input-container.md and
  migrate-to-filestream.md: the container and log inputs are disabled in 9.0.
- add-docker-metadata.md, copy-fields.md, add-fields.md, drop-event.md, defining-processors.md
  (conditions): processors and their options.
- elasticsearch-output.md and configuration-ssl.md: output.elasticsearch and its ssl options.
- configuring-internal-queue.md: queue.mem / queue.disk, max_size required.
- privileges-to-publish-events.md, configuration-template.md, ilm.md, configuration-dashboards.md:
  the setup steps that need more than the writer role's privileges.
- configuration-logging.md, http-endpoint.md, configuration-general-options.md.
"""

import copy

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.microops.stack.plugins.filter.filebeat import FIELDS, filebeat_config

OPTIONS = {
    "hosts": ["https://10.0.0.7:9200"],
    "username": "microops_filebeat",
    "password": "s3cret-writer-pw",
    "ca_path": "/usr/share/filebeat/certs/ca.crt",
    "data_stream": "logs-microops-development",
    "environment": "development",
    "host_name": "web-1",
    "queue_max_size": "1GB",
}

# ---- the schema ------------------------------------------------------------------------------

TOP_LEVEL = {"filebeat", "processors", "output", "queue", "setup", "logging", "http", "monitoring",
             "name", "tags", "fields", "fields_under_root", "max_procs", "path", "hostname"}
INPUT_TYPES_9 = {"filestream", "journald", "stdin", "tcp", "udp", "unix", "syslog", "http_endpoint",
                 "httpjson", "cel", "kafka", "aws-s3", "winlog", "netflow"}
DISABLED_IN_9 = {"log", "container"}
FILESTREAM_OPTIONS = {
    "type", "id", "enabled", "paths", "tags", "fields", "fields_under_root", "processors", "pipeline",
    "keep_null", "index", "publisher_pipeline", "parsers", "file_identity", "prospector", "close",
    "clean_inactive", "clean_removed", "backoff", "harvester_limit", "exclude_lines", "include_lines",
    "buffer_size", "message_max_bytes", "encoding", "ignore_older", "ignore_inactive", "take_over",
    "allow_deprecated_id_duplication", "rotation", "compression", "delete", "read_until_eof",
    "include_file_owner_name", "include_file_owner_group_name", "line_terminator",
}
SCANNER_OPTIONS = {"recursive_glob", "exclude_files", "include_files", "symlinks", "resend_on_touch",
                   "check_interval", "fingerprint"}
FINGERPRINT_OPTIONS = {"enabled", "offset", "length"}
FILE_IDENTITIES = {"fingerprint", "native", "path", "inode_marker"}
PARSERS = {
    "multiline": None,  # options not checked: not used here
    "ndjson": {"target", "overwrite_keys", "expand_keys", "add_error_key", "message_key", "document_id",
               "ignore_decoding_error"},
    "container": {"stream", "format"},
    "syslog": {"format", "timezone", "log_errors", "add_error_key"},
    "include_message": {"patterns"},
}
CONTAINER_PARSER_VALUES = {"stream": {"all", "stdout", "stderr"}, "format": {"auto", "docker", "cri"}}
PROCESSORS = {
    "add_docker_metadata": {"host", "ssl", "match_fields", "match_pids", "match_source", "match_short_id",
                            "match_source_index", "cleanup_timeout", "hostfs", "labels",
                            "wait_for_metadata", "wait_for_metadata_timeout", "wait_for_metadata_retry_period"},
    "drop_event": set(),
    "copy_fields": {"fields", "fail_on_error", "ignore_missing"},
    "add_fields": {"target", "fields"},
    "drop_fields": {"fields", "ignore_missing"},
    "rename": {"fields", "ignore_missing", "fail_on_error"},
}
REQUIRED_PROCESSOR_OPTIONS = {"drop_event": {"when"}, "copy_fields": {"fields"}, "add_fields": {"fields"}}
CONDITIONS = {"equals", "contains", "regexp", "range", "network", "has_fields", "or", "and", "not"}
ES_OUTPUT = {
    "enabled", "hosts", "compression_level", "escape_html", "worker", "workers", "loadbalance", "api_key",
    "username", "password", "parameters", "protocol", "path", "headers", "proxy_disable", "proxy_url",
    "proxy_headers", "index", "indices", "ilm", "pipeline", "pipelines", "max_retries", "bulk_max_size",
    "backoff", "idle_connection_timeout", "timeout", "allow_older_versions", "ssl", "kerberos", "queue",
    "non_indexable_policy", "preset",
}
SSL = {"enabled", "certificate_authorities", "certificate", "key", "key_passphrase", "key_passphrase_path",
       "supported_protocols", "cipher_suites", "curve_types", "ca_sha256", "ca_trusted_fingerprint",
       "verification_mode", "renegotiation", "restart_on_cert_change"}
VERIFICATION_MODES = {"full", "strict", "certificate", "none"}
QUEUE_DISK = {"path", "max_size", "segment_size", "read_ahead", "write_ahead", "retry_interval",
              "max_retry_interval"}
QUEUE_MEM = {"events", "flush", "immediate_shutdown"}


def _condition_errors(condition, where):
    errors = []
    if not isinstance(condition, dict) or len(condition) != 1:
        return [f"{where}: a condition is one of {sorted(CONDITIONS)}"]
    (kind, body), = condition.items()
    if kind not in CONDITIONS:
        return [f"{where}: unknown condition {kind}"]
    if kind == "not":
        errors += _condition_errors(body, f"{where}.not")
    elif kind in ("or", "and"):
        for index, sub in enumerate(body):
            errors += _condition_errors(sub, f"{where}.{kind}[{index}]")
    elif kind == "has_fields":
        if not isinstance(body, list) or not body:
            errors.append(f"{where}.has_fields: a list of field names")
    elif not isinstance(body, dict) or not body:
        errors.append(f"{where}.{kind}: a map of field to value")
    return errors


def _processor_errors(processors, where):
    errors = []
    for index, entry in enumerate(processors):
        here = f"{where}[{index}]"
        if not isinstance(entry, dict) or len(entry) != 1:
            errors.append(f"{here}: one processor per list entry")
            continue
        (name, settings), = entry.items()
        if name not in PROCESSORS:
            errors.append(f"{here}: unknown processor {name}")
            continue
        settings = settings or {}
        unknown = set(settings) - PROCESSORS[name] - {"when"}
        if unknown:
            errors.append(f"{here}.{name}: unknown options {sorted(unknown)}")
        missing = REQUIRED_PROCESSOR_OPTIONS.get(name, set()) - set(settings)
        if missing:
            errors.append(f"{here}.{name}: missing {sorted(missing)}")
        if "when" in settings:
            errors += _condition_errors(settings["when"], f"{here}.{name}.when")
        if name == "copy_fields":
            for pair in settings.get("fields", []):
                if set(pair) != {"from", "to"}:
                    errors.append(f"{here}.copy_fields: each field is a from/to pair")
        if name == "add_docker_metadata" and set(settings.get("labels", {})) - {"dedot"}:
            errors.append(f"{here}.add_docker_metadata: labels has only dedot")
    return errors


def _input_errors(inputs):
    errors = []
    ids = [item.get("id") for item in inputs if item.get("type") == "filestream"]
    if any(not value for value in ids):
        errors.append("filestream inputs validation error: input without ID")
    duplicates = sorted({value for value in ids if value and ids.count(value) > 1})
    if duplicates:
        errors.append(f"filestream inputs with duplicated IDs: {duplicates}")
    for index, item in enumerate(inputs):
        here = f"filebeat.inputs[{index}]"
        kind = item.get("type")
        if kind in DISABLED_IN_9:
            errors.append(f"{here}: the {kind} input is disabled in 9.x, use filestream")
            continue
        if kind not in INPUT_TYPES_9:
            errors.append(f"{here}: unknown input type {kind}")
            continue
        if kind != "filestream":
            continue
        unknown = set(item) - FILESTREAM_OPTIONS
        if unknown:
            errors.append(f"{here}: unknown filestream options {sorted(unknown)}")
        if not item.get("paths"):
            errors.append(f"{here}: no path is configured")
        for parser_index, parser in enumerate(item.get("parsers", [])):
            (name, settings), = parser.items()
            if name not in PARSERS:
                errors.append(f"{here}.parsers[{parser_index}]: unknown parser {name}")
                continue
            if PARSERS[name] is not None and set(settings or {}) - PARSERS[name]:
                errors.append(f"{here}.parsers[{parser_index}].{name}: unknown options")
            if name == "container":
                for key, allowed in CONTAINER_PARSER_VALUES.items():
                    if (settings or {}).get(key, "all" if key == "stream" else "auto") not in allowed:
                        errors.append(f"{here}.parsers[{parser_index}].container.{key} not in {sorted(allowed)}")
        identity = item.get("file_identity")
        if identity is not None and (len(identity) != 1 or set(identity) - FILE_IDENTITIES):
            errors.append(f"{here}.file_identity: exactly one of {sorted(FILE_IDENTITIES)}")
        scanner = item.get("prospector", {}).get("scanner", {})
        if set(item.get("prospector", {})) - {"scanner"} or set(scanner) - SCANNER_OPTIONS:
            errors.append(f"{here}.prospector: unknown scanner options")
        fingerprint = scanner.get("fingerprint", {})
        if set(fingerprint) - FINGERPRINT_OPTIONS:
            errors.append(f"{here}.prospector.scanner.fingerprint: unknown options")
        if fingerprint.get("length", 1024) < 64:
            errors.append(f"{here}.prospector.scanner.fingerprint.length cannot be less than 64")
        # The fingerprint identity uses the scanner's fingerprints.
        if (identity is None or "fingerprint" in identity) and fingerprint.get("enabled") is False:
            errors.append(f"{here}: file_identity fingerprint needs prospector.scanner.fingerprint.enabled")
        errors += _processor_errors(item.get("processors", []), f"{here}.processors")
    return errors


def schema_errors(config):
    """Every way `config` departs from the documented schema, as messages."""
    errors = [f"unknown top-level key {key}" for key in set(config) - TOP_LEVEL]
    inputs = (config.get("filebeat") or {}).get("inputs") or []
    if not inputs:
        errors.append("filebeat.inputs: no input")
    errors += _input_errors(inputs)
    errors += _processor_errors(config.get("processors", []), "processors")
    outputs = config.get("output") or {}
    if list(outputs) != ["elasticsearch"]:
        errors.append(f"exactly one output, elasticsearch: {sorted(outputs)}")
    es = outputs.get("elasticsearch") or {}
    errors += [f"output.elasticsearch: unknown option {key}" for key in set(es) - ES_OUTPUT]
    if set(es.get("ssl", {})) - SSL:
        errors.append("output.elasticsearch.ssl: unknown options")
    if es.get("ssl", {}).get("verification_mode", "full") not in VERIFICATION_MODES:
        errors.append("output.elasticsearch.ssl.verification_mode")
    if not es.get("hosts"):
        errors.append("output.elasticsearch.hosts: required")
    queue = config.get("queue") or {}
    if len(queue) > 1:
        errors.append("queue: only one queue type can be configured")
    if "disk" in queue:
        if set(queue["disk"]) - QUEUE_DISK:
            errors.append("queue.disk: unknown options")
        if "max_size" not in queue["disk"]:
            errors.append("queue.disk.max_size is required")
    if "mem" in queue and set(queue["mem"]) - QUEUE_MEM:
        errors.append("queue.mem: unknown options")
    return errors


def privilege_errors(config):
    """Setup steps that would need more than the writer role (create_doc, auto_configure, monitor)."""
    setup = config.get("setup") or {}
    errors = []
    # The template and ILM setup default to on when the output is Elasticsearch.
    if (setup.get("template") or {}).get("enabled", True):
        errors.append("setup.template.enabled: loading a template needs manage_index_templates")
    if (setup.get("ilm") or {}).get("enabled", True):
        errors.append("setup.ilm.enabled: ILM setup needs manage_ilm, and ignores output.elasticsearch.index")
    if (setup.get("dashboards") or {}).get("enabled", False) or "kibana" in setup:
        errors.append("setup.dashboards / setup.kibana: Kibana is the role's")
    if set(setup) - {"template", "ilm", "dashboards"}:
        errors.append(f"setup: unexpected {sorted(set(setup) - {'template', 'ilm', 'dashboards'})}")
    return errors


# ---- the checker checks -------------------------------------------------------------------------

def test_the_checker_catches_what_filebeat_9_refuses():
    config = filebeat_config(OPTIONS)
    broken = copy.deepcopy(config)
    broken["filebeat"]["inputs"] += [{"type": "container", "paths": ["/x"]},
                                     {"type": "filestream", "paths": ["/y"]},
                                     {"type": "filestream", "id": "microops-containers", "paths": ["/z"],
                                      "parsers": [{"container": {"stream": "both"}}]}]
    broken["processors"].append({"add_docker_metadata": {"match_source_idx": 4}})
    broken["processors"].append({"drop_event": {"when": {"equal": {"a": "b"}}}})
    broken["queue"] = {"disk": {"path": "/q"}}
    broken["setup"] = {}
    errors = schema_errors(broken) + privilege_errors(broken)
    for expected in ("container input is disabled in 9.x", "input without ID",
                     "duplicated IDs: ['microops-containers']", "container.stream",
                     "unknown options ['match_source_idx']", "unknown condition equal",
                     "queue.disk.max_size is required", "setup.template.enabled", "setup.ilm.enabled"):
        assert any(expected in error for error in errors), expected


# ---- the generated configuration ----------------------------------------------------------------

def test_configuration_follows_the_documented_schema():
    config = filebeat_config(OPTIONS)
    assert schema_errors(config) == []
    assert privilege_errors(config) == []


def test_configuration_survives_to_nice_yaml():
    config = filebeat_config(OPTIONS)
    text = yaml.dump(config, Dumper=yaml.SafeDumper, default_flow_style=False)
    assert yaml.safe_load(text) == config
    assert "native: null" in text  # file_identity.native: ~


def test_one_filestream_input_with_the_container_parser():
    (item,) = filebeat_config(OPTIONS)["filebeat"]["inputs"]
    assert item["type"] == "filestream" and item["id"] == "microops-containers"
    assert item["paths"] == ["/var/lib/docker/containers/*/*-json.log"]
    assert item["parsers"] == [{"container": {"stream": "all", "format": "docker"}}]
    assert item["file_identity"] == {"native": None}


def test_processors_in_order():
    processors = filebeat_config(OPTIONS)["processors"]
    assert [next(iter(p)) for p in processors] == [
        "add_docker_metadata", "drop_event", "copy_fields", "copy_fields", "add_fields"]
    docker = processors[0]["add_docker_metadata"]
    # The container id is the 5th non-empty part of /var/lib/docker/containers/<id>/<id>-json.log.
    assert docker == {"host": "unix:///var/run/docker.sock", "match_source": True, "match_source_index": 4,
                      "labels": {"dedot": True}}
    assert processors[1] == {"drop_event": {"when": {"equals": {"container.name": "filebeat"}}}}
    label, name = processors[2]["copy_fields"], processors[3]["copy_fields"]
    assert label["fields"] == [{"from": "container.labels.com_microops_service", "to": "service.name"}]
    assert label["ignore_missing"] is True and label["fail_on_error"] is False
    assert name["fields"] == [{"from": "container.name", "to": "service.name"}]
    assert name["when"] == {"not": {"has_fields": ["service.name"]}}
    assert processors[4] == {"add_fields": {"target": "", "fields": {
        "host": {"name": "web-1"}, "labels": {"environment": "development"},
        "data_stream": {"type": "logs", "dataset": "microops", "namespace": "development"}}}}
    assert FIELDS == {"service": "service.name", "container": "container.name", "host": "host.name",
                      "environment": "labels.environment"}


def test_custom_label_and_own_container():
    processors = filebeat_config({**OPTIONS, "service_label": "org.example.app", "own_container": "shipper"})[
        "processors"]
    assert processors[1]["drop_event"]["when"]["equals"] == {"container.name": "shipper"}
    assert processors[2]["copy_fields"]["fields"][0]["from"] == "container.labels.org_example_app"


def test_output_queue_setup_logging():
    config = filebeat_config(OPTIONS)
    assert config["output"] == {"elasticsearch": {
        "hosts": ["https://10.0.0.7:9200"], "username": "microops_filebeat", "password": "s3cret-writer-pw",
        "ssl": {"certificate_authorities": ["/usr/share/filebeat/certs/ca.crt"], "verification_mode": "full"},
        "index": "logs-microops-development"}}
    assert config["queue"] == {"disk": {"max_size": "1GB"}}
    assert config["setup"]["template"] == {"enabled": False}
    assert config["setup"]["ilm"]["enabled"] is False
    assert config["logging"]["to_stderr"] is True and config["logging"]["to_files"] is False
    assert config["http"] == {"enabled": False} and config["name"] == "web-1"


def test_input_is_not_modified():
    options = copy.deepcopy(OPTIONS)
    filebeat_config(options)
    assert options == OPTIONS


@pytest.mark.parametrize("size", ["1GB", "512MiB", "100 MB", "1.5GB", "10gb", "1073741824", 1073741824])
def test_queue_sizes_filebeat_parses(size):
    assert filebeat_config({**OPTIONS, "queue_max_size": size})["queue"]["disk"]["max_size"] == str(size)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"hosts": []}, "hosts must be a non-empty list of https:// URLs"),
        ({"hosts": "https://es:9200"}, "hosts must be a non-empty list"),
        ({"hosts": ["http://es:9200"]}, "every entry of hosts must be an https:// URL"),
        ({"hosts": ["es:9200"]}, "every entry of hosts must be an https:// URL"),
        ({"username": ""}, "missing option(s) username"),
        ({"password": None}, "missing option(s) password"),
        ({"password": 12}, "password must be a non-empty string"),
        ({"ca_path": "certs/ca.crt"}, "ca_path must be an absolute path"),
        ({"data_stream": "microops-logs"}, "data_stream must be named logs-<dataset>-<namespace>"),
        ({"data_stream": "logs-micro-ops-development"}, "data_stream must be named"),
        ({"data_stream": "logs-microops-production"}, "must end with the environment 'development'"),
        ({"queue_max_size": "0"}, "queue_max_size must be a size above zero"),
        ({"queue_max_size": "1 gigabyte"}, "queue_max_size must be a size above zero"),
        ({"queue_max_size": True}, "queue_max_size must be a size above zero"),
        ({"service_label": "com microops"}, "service_label must be a Docker label key"),
        ({"own_container": ""}, "own_container must be a non-empty string"),
        ({"index": "x"}, "unknown option(s) index"),
    ],
)
def test_option_errors_name_the_option(change, message):
    with pytest.raises(AnsibleFilterError) as raised:
        filebeat_config({**OPTIONS, **change})
    assert message in str(raised.value)
    assert "s3cret-writer-pw" not in str(raised.value)


def test_missing_options_are_listed_together():
    with pytest.raises(AnsibleFilterError, match=r"missing option\(s\) host_name, queue_max_size"):
        filebeat_config({k: v for k, v in OPTIONS.items() if k not in ("host_name", "queue_max_size")})


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="expects a dict of options, got list"):
        filebeat_config([OPTIONS])
