#!/usr/bin/env bash
# Stop the cluster that tools/slurm/start-cluster.sh started from STATE_DIR, by the
# PIDs in its PID files: slurmd, then slurmctld, then munged, after cancelling the
# jobs still queued or running.
#
# Usage: tools/slurm/stop-cluster.sh [STATE_DIR]
# (default: $LOOKBOOK_SLURM_DIR or /tmp/lookbook-slurm). Configuration, keys and logs
# stay in STATE_DIR for inspection; a daemon that is not running is skipped.
set -euo pipefail

state_dir=${1:-${LOOKBOOK_SLURM_DIR:-/tmp/lookbook-slurm}}
# Seconds to wait for each daemon to exit after SIGTERM before sending SIGKILL.
stop_timeout=${LOOKBOOK_SLURM_STOP_TIMEOUT:-10}

if [ ! -d "$state_dir" ]; then
    echo "stop-cluster: state directory $state_dir not found; nothing to stop" >&2
    exit 0
fi

stop_daemon() {
    local name=$1 pid_file="$state_dir/$1.pid" pid
    if [ ! -s "$pid_file" ]; then
        return 0
    fi
    pid=$(cat "$pid_file")
    if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$pid_file"
        return 0
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + stop_timeout))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "stop-cluster: $name (PID $pid) still running after ${stop_timeout}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
}

# Cancel the jobs that are still queued or running, so that no job step outlives
# slurmd. Every job on this private cluster was submitted through it.
slurmctld_pid_file="$state_dir/slurmctld.pid"
if [ -s "$slurmctld_pid_file" ] && kill -0 "$(cat "$slurmctld_pid_file")" 2>/dev/null; then
    export SLURM_CONF="$state_dir/slurm.conf"
    job_ids=$(squeue --noheader --format=%i 2>/dev/null || true)
    if [ -n "$job_ids" ]; then
        # shellcheck disable=SC2086 (one argument per job id)
        scancel $job_ids || true
        deadline=$((SECONDS + stop_timeout))
        while [ -n "$(squeue --noheader --format=%i 2>/dev/null)" ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.5
        done
    fi
fi

# Stop slurmd first, so that it does not log a lost controller, and munged last,
# because the Slurm daemons authenticate through it until they exit.
stop_daemon slurmd
stop_daemon slurmctld
stop_daemon munged

# Remove the link to this cluster's configuration that start-cluster.sh made.
system_conf=/etc/slurm/slurm.conf
if [ -L "$system_conf" ] && [ "$(readlink "$system_conf")" = "$(cd "$state_dir" && pwd)/slurm.conf" ]; then
    rm -f "$system_conf"
fi
