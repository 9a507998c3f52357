#!/usr/bin/env bash
# slurm_cluster.sh - a single-node SLURM cluster on localhost for govsim's cluster tests
# (tests/test_clusters.py) and for trying `govsim experiment NAME --launcher submitit_slurm`.
#
#   scripts/slurm_cluster.sh start    install what is missing (Debian packages), write the configs,
#                                     start munged, mariadbd, slurmdbd, slurmctld, slurmd; wait
#                                     until the node is idle; print `export GOVSIM_SLURM=1`
#   scripts/slurm_cluster.sh stop     cancel jobs still queued, stop every daemon by its PID
#   scripts/slurm_cluster.sh status   daemons and their PIDs, sinfo, squeue (exit 1 if not up)
#
# Needs root and apt-get (Debian 12/13). Idempotent: a second `start` installs nothing and starts
# only daemons that are not running (about a second). The PIDs are kept in one state folder,
# $GOVSIM_SLURM_STATE (default /run/govsim-slurm), and `stop` kills those PIDs and nothing else.
#
# Why each step is as it is (learnt the hard way, see also /work/shared/tools/slurm_local.sh):
#  - ACCOUNTING IS ON (MariaDB + slurmdbd). submitit polls job states with `sacct` only; without
#    accounting a job killed by scancel or by its time limit is UNKNOWN for ever and
#    `job.result()` hangs. With slurmdbd it raises UncompletedJobError ("CANCELLED", "TIMEOUT").
#  - No systemd here: nothing is started by the packages' postinst; /run/munge and /run/mysqld
#    are created by hand. munged runs as user munge.
#  - NodeName is `hostname -s`, every address is 127.0.0.1, so an unresolvable CI hostname works.
#    The node's CPUs come from `slurmd -C`; RealMemory is set to 85 % of what it reports (a value
#    above the real memory drains the node).
#  - No cgroups: proctrack/linuxproc, task/none, jobacct_gather/none.
#  - Job ids live in /var/spool/slurmctld and the accounting DB in /var/lib/mysql: keep both or
#    wipe both, never one (sacct would report an old job under a new job's id). This script never
#    wipes either. Use a fresh submitit folder per study launch (govsim does: .launch/<time>-...).
#  - slurmstepd of a running job outlives slurmd, so `stop` cancels jobs and waits first.
#  - Ports 6817 (slurmctld), 6818 (slurmd), 6819 (slurmdbd); MariaDB has no TCP port.
set -euo pipefail
ACTION=${1:-start}
STATE=${GOVSIM_SLURM_STATE:-/run/govsim-slurm}
CLUSTER=govsim
PARTITION=debug
NODE=$(hostname -s)
DBPASS=govsim-local   # MariaDB listens on a unix socket only; throwaway local password
DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged)   # stop order (start is the reverse)

say() { echo "[slurm_cluster $(date +%T)] $*" >&2; }
pidfile() { echo "$STATE/$1.pid"; }
alive() { local f; f=$(pidfile "$1"); [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }
wait_until() {  # wait_until SECONDS WHAT CMD...  (every 0.25 s; 1 if it never held)
  local tries=$(($1 * 4)) what=$2 i; shift 2
  for ((i = 0; i < tries; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  say "TIMEOUT after $tries/4 s waiting for $what"; return 1
}
record_pid() {  # record_pid NAME PIDFILE_WRITTEN_BY_THE_DAEMON
  wait_until 30 "$1 pid file" test -s "$2" || return 1
  cp "$2" "$(pidfile "$1")"
}

install_packages() {
  local pkgs=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server mariadb-client) missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || { say "FAILED: apt-get not found (Debian needed)"; exit 1; }
  ((EUID == 0)) || { say "FAILED: installing ${missing[*]} needs root"; exit 1; }
  local t0=$SECONDS log=/tmp/govsim-slurm-apt.log
  say "apt-get install ${missing[*]} (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    apt-get update >>"$log" 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
      { tail -20 "$log" >&2; say "FAILED: apt-get install"; exit 1; }
  fi
  say "installed in $((SECONDS - t0)) s"
}

start_munge() {
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    /usr/sbin/mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge; chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
  if ! alive munged; then
    say "starting munged"
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --force --pid-file=/run/munge/munged.pid
    record_pid munged /run/munge/munged.pid
  fi
  wait_until 10 "munge round trip" bash -c 'munge -n | unmunge'
}

start_accounting() {
  mkdir -p /run/mysqld /var/log/mysql; chown mysql:mysql /run/mysqld /var/log/mysql
  if [[ ! -d /var/lib/mysql/mysql ]]; then
    say "initialising the MariaDB data folder"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/tmp/govsim-mariadb-init.log 2>&1
  fi
  if ! alive mariadbd; then
    say "starting mariadbd"
    rm -f /run/mysqld/mysqld.pid
    setsid /usr/sbin/mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock \
      --pid-file=/run/mysqld/mysqld.pid --log-error=/var/log/mysql/error.log \
      --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 &
    record_pid mariadbd /run/mysqld/mysqld.pid
  fi
  wait_until 60 "mariadbd" mysqladmin --socket=/run/mysqld/mysqld.sock ping
  mysql --socket=/run/mysqld/mysqld.sock -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  mkdir -p /etc/slurm /var/log/slurm /run/slurm
  cat >/etc/slurm/slurmdbd.conf <<EOF
# written by govsim scripts/slurm_cluster.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
  chmod 600 /etc/slurm/slurmdbd.conf   # slurmdbd refuses a conf others can read
  if ! alive slurmdbd; then
    say "starting slurmdbd"
    rm -f /run/slurm/slurmdbd.pid
    slurmdbd
    record_pid slurmdbd /run/slurm/slurmdbd.pid
  fi
  wait_until 30 "slurmdbd on port 6819" bash -c 'exec 3<>/dev/tcp/127.0.0.1/6819'
}

write_slurm_conf() {
  local hw mem
  hw=$(slurmd -C | head -1 | sed -E 's/^NodeName=\S+ //; s/ ?RealMemory=[0-9]+//')
  mem=$(slurmd -C | head -1 | sed -E 's/.*RealMemory=([0-9]+).*/\1/')
  mkdir -p /var/spool/slurmctld /var/spool/slurmd
  cat >/etc/slurm/slurm.conf <<EOF
# written by govsim scripts/slurm_cluster.sh: one node on localhost, accounting via slurmdbd
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
MailProg=/bin/true
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
NodeName=$NODE NodeAddr=127.0.0.1 $hw RealMemory=$((mem * 85 / 100)) State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurm() {
  if ! alive slurmctld; then
    say "starting slurmctld"
    rm -f /run/slurm/slurmctld.pid
    slurmctld
    record_pid slurmctld /run/slurm/slurmctld.pid
  else
    scontrol reconfigure >/dev/null 2>&1 || true
  fi
  wait_until 30 "slurmctld" scontrol ping
  if ! alive slurmd; then
    say "starting slurmd"
    rm -f /run/slurm/slurmd.pid
    slurmd
    record_pid slurmd /run/slurm/slurmd.pid
  fi
  if ! wait_until 60 "node $NODE idle" \
      bash -c "sinfo -h -n $NODE -o %T | grep -Eq '^(idle|mixed|allocated)'"; then
    sinfo -R >&2 || true
    tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    say "FAILED: the node did not come up"; exit 1
  fi
}

do_start() {
  local t0=$SECONDS
  mkdir -p "$STATE"
  install_packages
  local t1=$SECONDS
  start_munge
  start_accounting
  write_slurm_conf
  start_slurm
  say "cluster up: partition $PARTITION, node $NODE (daemons $((SECONDS - t1)) s, all $((SECONDS - t0)) s)"
  echo "export GOVSIM_SLURM=1"
}

do_stop() {
  if alive slurmctld; then
    local ids
    ids=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
    if [[ -n ${ids// /} ]]; then
      say "cancelling jobs $ids"
      scancel $ids || true
      wait_until 40 "an empty queue" bash -c '[[ -z $(squeue -h 2>/dev/null) ]]' || true
    fi
  fi
  local d f p i
  for d in "${DAEMONS[@]}"; do
    f=$(pidfile "$d")
    [[ -s $f ]] || continue
    p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null; then
      say "stopping $d (pid $p)"
      kill "$p"
      for ((i = 0; i < 80; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$p" 2>/dev/null; then say "$d pid $p alive after 20 s: SIGKILL"; kill -9 "$p"; fi
    fi
    rm -f "$f"
  done
}

do_status() {
  local d up=0
  for d in "${DAEMONS[@]}"; do
    if alive "$d"; then echo "$d: pid $(cat "$(pidfile "$d")")"; else echo "$d: not running"; up=1; fi
  done
  if ((up == 0)); then sinfo; squeue; fi
  return $up
}

case $ACTION in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
