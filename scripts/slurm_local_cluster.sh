#!/usr/bin/env bash
# A one-node Slurm "cluster" on this machine for `make slurm-test` (sourced, not run): munged, slurmctld and slurmd
# started directly (no systemd), every file — config, key, state, spool, logs, pid files, munge socket — in one
# temporary folder, every daemon stopped by its pid. Tried on Debian 12's slurm-wlm 22.05 + munge 0.5.
#
#   source scripts/slurm_local_cluster.sh
#   slurm_cluster_start DIR      # writes DIR/slurm.conf, exports SLURM_CONF, starts the daemons, waits for the node
#   slurm_cluster_stop           # stops what slurm_cluster_start started (call it from `trap … EXIT`)
#
# Non-cgroup plugins (proctrack/linuxproc, task/none): containers often have no writable cgroup hierarchy, and
# nothing here needs resource enforcement.

SLURM_CLUSTER_PIDS=()

slurm_cluster_install() {   # installs slurm-wlm and munge with apt-get when missing
  if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm-test: installing slurm-wlm and munge with apt-get"
    if [ "$(id -u)" -ne 0 ]; then echo "slurm-test: needs root to install packages and run slurmd (SlurmUser=root)"; return 1; fi
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge) >/tmp/slurm-test-apt.log 2>&1 \
      || { echo "slurm-test: apt-get install slurm-wlm munge failed, see /tmp/slurm-test-apt.log"; return 1; }
  fi
}

slurm_cluster_start() {
  local dir=$1 host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))   # MiB offered to jobs: half the machine
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 755 "$dir"   # munged runs as user munge and must reach its folder
  # munged refuses keys and sockets that others can write to; its folder belongs to the munge user.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$dir/munge" 2>/dev/null || true
  chmod 700 "$dir/munge"; chmod 400 "$dir/munge/munge.key"
  local munge_user=munge; id munge >/dev/null 2>&1 || munge_user=root
  su -s /bin/sh "$munge_user" -c "munged --force --socket=$dir/munge/munge.socket --key-file=$dir/munge/munge.key \
      --pid-file=$dir/munge/munged.pid --log-file=$dir/munge/munged.log --seed-file=$dir/munge/munged.seed" \
    || { echo "slurm-test: munged did not start:"; cat "$dir/munge/munged.log" 2>/dev/null; return 1; }
  SLURM_CLUSTER_PIDS+=("$(cat "$dir/munge/munged.pid")")
  cat >"$dir/slurm.conf" <<CONF
ClusterName=deepnet-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
# cred_expire also delays a requeued job's restart (begin time = now + cred_expire + 1 s); the default 120 s would
# make the requeue part of the test wait two minutes.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=10
DefMemPerCPU=1024
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" || { echo "slurm-test: slurmctld did not start:"; tail -20 "$dir/log/slurmctld.log"; return 1; }
  slurm_cluster_wait_pidfile "$dir/slurmctld.pid" || { tail -20 "$dir/log/slurmctld.log"; return 1; }
  slurmd -f "$SLURM_CONF" || { echo "slurm-test: slurmd did not start:"; tail -20 "$dir/log/slurmd.log"; return 1; }
  slurm_cluster_wait_pidfile "$dir/slurmd.pid" || { tail -20 "$dir/log/slurmd.log"; return 1; }
  local i
  for i in $(seq 1 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "slurm-test: one-node cluster up after ${i}s: $(sinfo -h -N -o '%N %T cpus=%c mem=%mMiB')"
      return 0
    fi
    sleep 1
  done
  echo "slurm-test: node did not become idle in 60 s: $(sinfo -N 2>&1)"; tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log"
  return 1
}

slurm_cluster_wait_pidfile() {   # daemon mode forks; record the daemon's pid from its pid file
  local i
  for i in $(seq 1 50); do
    if [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; then SLURM_CLUSTER_PIDS+=("$(cat "$1")"); return 0; fi
    sleep 0.2
  done
  echo "slurm-test: no live pid in $1 after 10 s"; return 1
}

slurm_cluster_stop() {   # reverse start order: slurmd, slurmctld, munged — each by the pid recorded at start
  local i pid
  for (( i=${#SLURM_CLUSTER_PIDS[@]}-1; i>=0; i-- )); do
    pid=${SLURM_CLUSTER_PIDS[$i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    echo "slurm-test: stopped daemon pid $pid"
  done
  SLURM_CLUSTER_PIDS=()
}
