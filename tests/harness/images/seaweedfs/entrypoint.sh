#!/bin/sh
# The official image's entrypoint convention (github.com/seaweedfs/seaweedfs docker/entrypoint.sh):
# the first argument names the weed command; `server`, `master` and `volume` get the data
# directory /data and the image's volume defaults, placed before the caller's arguments so that
# the caller's own flags win; anything else is passed to weed unchanged.
set -e
command=$1
[ $# -gt 0 ] && shift
case "$command" in
  server)
    volume_max=-volume.max=0
    for arg in "$@"; do
      case $arg in -volume.max|-volume.max=*) volume_max= ;; esac
    done
    exec /usr/bin/weed -logtostderr=true server -dir=/data $volume_max \
      -master.volumePreallocate -master.volumeSizeLimitMB=1024 "$@" ;;
  master)
    exec /usr/bin/weed -logtostderr=true master -mdir=/data -volumePreallocate \
      -volumeSizeLimitMB=1024 "$@" ;;
  volume)
    volume_max=-max=0
    for arg in "$@"; do
      case $arg in -max|-max=*) volume_max= ;; esac
    done
    exec /usr/bin/weed -logtostderr=true volume -dir=/data $volume_max "$@" ;;
  filer|s3)
    exec /usr/bin/weed -logtostderr=true "$command" "$@" ;;
  *)
    exec /usr/bin/weed "$command" "$@" ;;
esac
