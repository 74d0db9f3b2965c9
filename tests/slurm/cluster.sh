#!/bin/sh
# A single-node Slurm cluster on this machine, for the Slurm tests: `cluster.sh start` installs
# Debian's slurm-wlm and munge when missing (root only), writes a private slurm.conf, starts
# munged, slurmctld and slurmd and waits until the node is idle; `cluster.sh stop` stops them;
# `cluster.sh env` prints the SLURM_CONF line the Slurm commands need.
#
# Everything lives under $LAZYSWEEP_SLURM_DIR (default /tmp/lazysweep-slurm): config, state, logs,
# pid files. The config is private (SLURM_CONF points at it), so a real /etc/slurm is never
# touched. The node is named after `hostname` and declares 4 CPUs whatever the machine has
# (SlurmdParameters=config_overrides), so a 2-core test machine can run a 1 + 3 rank sweep.
# No cgroups here: processes are tracked by parentage (proctrack/linuxproc), tasks are not bound.
# Job credentials live 5 s instead of 120 (AuthInfo=cred_expire): Slurm holds a requeued job for
# that long before it may start again, and the time-limit test requeues. The schedulers look at
# pending jobs every 1-2 s instead of 30-60, for the same reason.
set -eu
DIR=${LAZYSWEEP_SLURM_DIR:-/tmp/lazysweep-slurm}
CONF=$DIR/slurm.conf
HOST=$(hostname -s)
CPUS=${LAZYSWEEP_SLURM_CPUS:-4}

die() { echo "cluster.sh: $*" >&2; exit 1; }

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "slurm-wlm and munge are missing and installing them needs root"
    echo "cluster.sh: installing slurm-wlm and munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null; } ||
        die "apt-get install slurm-wlm munge failed"
}

# A fresh cluster each time: no job of an earlier session is remembered, or restarted.
write_conf() {
    rm -rf "$DIR/ctld" "$DIR/d"
    mkdir -p "$DIR/ctld" "$DIR/d"
    cat >"$CONF" <<CONF
ClusterName=lazysweep
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5
CredType=cred/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2
MpiDefault=none
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=300
MessageTimeout=20
SlurmdParameters=config_overrides
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munge() {
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    [ -s /etc/munge/munge.key ] || {
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
    touch "$DIR/munged.ours"
}

wait_idle() {
    i=0
    while [ $i -lt 60 ]; do
        state=$(SLURM_CONF=$CONF sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
        case "$state" in idle*) return 0 ;; down*|drain*) SLURM_CONF=$CONF scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;; esac
        sleep 0.5
        i=$((i + 1))
    done
    die "node $HOST did not become idle (state '$state'); see $DIR/slurmctld.log and $DIR/slurmd.log"
}

start() {
    [ "$(id -u)" = 0 ] || die "starting a Slurm cluster needs root"
    install_packages
    stop_daemons
    write_conf
    start_munge
    SLURM_CONF=$CONF slurmctld -f "$CONF" || die "slurmctld did not start; see $DIR/slurmctld.log"
    SLURM_CONF=$CONF slurmd -f "$CONF" || die "slurmd did not start; see $DIR/slurmd.log"
    wait_idle
    echo "cluster.sh: node $HOST idle with $CPUS CPUs; export SLURM_CONF=$CONF" >&2
}

# Stop our daemons by their pid files; munged only if this script started it.
stop_daemons() {
    for d in slurmd slurmctld; do
        f=$DIR/$d.pid
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

case "${1:-}" in
start) start ;;
stop)
    stop_daemons
    if [ -e "$DIR/munged.ours" ] && [ -s /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
        rm -f "$DIR/munged.ours"
    fi
    ;;
env) echo "SLURM_CONF=$CONF" ;;
*) echo "usage: cluster.sh start|stop|env" >&2; exit 2 ;;
esac
