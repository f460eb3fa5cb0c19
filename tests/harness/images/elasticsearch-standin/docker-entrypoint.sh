#!/usr/bin/env bash
# microops-test Elasticsearch STAND-IN entrypoint. Follows elastic/elasticsearch
# distribution/docker/src/docker/bin/docker-entrypoint.sh: a CMD other than `eswrapper` is run
# as it is; environment variables named like settings (two dot-separated lowercase words, e.g.
# cluster.name) become -E options; ELASTIC_PASSWORD_FILE / ELASTIC_PASSWORD (exclusive) put
# bootstrap.password into the keystore (created if absent) unless it is listed already; then the
# server (here the stand-in, not Elasticsearch) is exec'd with the options.
set -e
umask 0002

run_as_other_user_if_needed() {
  if [[ "$(id -u)" == "0" ]]; then
    exec setpriv --reuid=1000 --regid=0 --clear-groups "${@}"
  else
    exec "${@}"
  fi
}

if [[ "$1" != "eswrapper" ]]; then
  if [[ "$(id -u)" == "0" && $(basename "$1") == "elasticsearch" ]]; then
    set -- "elasticsearch" "${@:2}"
    exec setpriv --reuid=1000 --regid=0 --clear-groups "$@"
  else
    exec "$@"
  fi
fi

declare -a es_opts
while IFS='=' read -r envvar_key envvar_value
do
  if [[ "$envvar_key" =~ ^[a-z0-9_]+\.[a-z0-9_]+ ]]; then
    if [[ ! -z $envvar_value ]]; then
      es_opts+=("-E${envvar_key}=${envvar_value}")
    fi
  fi
done < <(env)

export ES_JAVA_OPTS="-Des.cgroups.hierarchy.override=/ $ES_JAVA_OPTS"

if [[ -n "$ELASTIC_PASSWORD_FILE" ]]; then
  if [[ -n "$ELASTIC_PASSWORD" ]]; then
    echo "ERROR: Both ELASTIC_PASSWORD and ELASTIC_PASSWORD_FILE are set. These are mutually exclusive." >&2
    exit 1
  fi
  if [[ ! -e "$ELASTIC_PASSWORD_FILE" ]]; then
    echo "ERROR: Password file $ELASTIC_PASSWORD_FILE does not exist" >&2
    exit 1
  fi
  if [[ ! -r "$ELASTIC_PASSWORD_FILE" ]]; then
    echo "ERROR: Password file $ELASTIC_PASSWORD_FILE is not readable" >&2
    exit 1
  fi
  ELASTIC_PASSWORD="$(cat "$ELASTIC_PASSWORD_FILE")"
  unset ELASTIC_PASSWORD_FILE
fi

if [[ -n "$ELASTIC_PASSWORD" ]]; then
  [[ -f /usr/share/elasticsearch/config/elasticsearch.keystore ]] || elasticsearch-keystore create
  if ! (elasticsearch-keystore list | grep -q '^bootstrap.password$'); then
    echo "$ELASTIC_PASSWORD" | elasticsearch-keystore add -x 'bootstrap.password'
  fi
fi

run_as_other_user_if_needed /usr/share/elasticsearch/bin/elasticsearch "${es_opts[@]}"
