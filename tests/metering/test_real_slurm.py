"""A real one-node Slurm (Debian's slurm-wlm: slurmctld, slurmd, slurmdbd keeping accounting in the local
MariaDB, munged for authentication) runs GPU jobs; the portal reads what `sacct` says about them.

The node is `nb200-001` with `Gres=gpu:8`. Slurm's gpu plugin drops GPUs that have no device file, so
gres.conf names eight stand-in device nodes under the test's own directory (character devices with
/dev/null's numbers): nothing opens them, as task/none confines nothing. Every daemon runs in the
foreground (`-D`) as a child of this test, with its state, spool, logs, munge key and socket under a
pytest tmp dir, on ports of 18400-18499 chosen per xdist worker, against a MariaDB database made for
this run; teardown stops each daemon by its PID and drops the database."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from metering import sacct
from metering.models import MeasuredUsage
from metering.services import sacct_receive
from tests import factories as f

pytestmark = pytest.mark.slurm

CLUSTER = "portal-test"
NODE = "nb200-001"
GPUS = 8
ACCOUNTS = ("msit-llm01", "mohw-medimg02")
PORTS = range(18400, 18500)
MARIADB = {"host": "127.0.0.1", "port": "3306", "user": "root"}
# The command the portal asks providers to run (metering/sacct.py), with a window around this test.
SACCT_FORMAT = "JobIDRaw,JobID,Cluster,Account,User,State,Submit,Start,End,ElapsedRaw,AllocTRES,NodeList"
BINARIES = ("munged", "munge", "slurmdbd", "slurmctld", "slurmd", "sacctmgr", "sbatch", "scontrol", "squeue",
            "sinfo", "sacct", "scancel")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the daemons do: a port in TIME_WAIT is free
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def choose_ports(worker: str) -> tuple[tuple[int, int, int], object]:
    """Three free ports (slurmctld, slurmd, slurmdbd) of 18400-18499 and the lock that holds them: a block of
    ten per xdist worker, or the next block that no other run has locked and nothing listens on. The lock (a
    file under the system's temp dir, flock'd) goes when the run's process does."""
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    blocks = len(PORTS) // 10
    for attempt in range(blocks):
        base = PORTS.start + ((index + attempt) % blocks) * 10
        lock = open(Path(tempfile.gettempdir()) / f"portal-test-slurm-ports-{base}.lock", "a")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if all(_free(p) for p in range(base, base + 3)):
            return (base, base + 1, base + 2), lock
        lock.close()
    pytest.fail("No three free ports in 18400-18499 for the test's Slurm.")


def mariadb(sql: str) -> None:
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        pytest.fail("The MariaDB client is missing (Debian's mariadb-client).")
    done = subprocess.run([client, "-h", MARIADB["host"], "-P", MARIADB["port"], "-u", MARIADB["user"], "-e", sql],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.fail(f"MariaDB on 127.0.0.1:3306 (root, no password) refused {sql!r}: {done.stderr.strip()}")


class Slurm:
    """The daemons of one test cluster and the commands that talk to it."""

    def __init__(self, root: Path, ports: tuple[int, int, int], database: str):
        self.root, self.database = root, database
        self.ctld_port, self.slurmd_port, self.dbd_port = ports
        self.conf = root / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf), "TZ": "Asia/Seoul"}
        self.daemons: list[tuple[str, subprocess.Popen]] = []
        self.timings: dict[str, float] = {}

    # -- configuration -------------------------------------------------------------------------------------------
    def write_config(self) -> None:
        r = self.root
        for d in ("munge", "state", "spool", "log", "dev", "jobs"):
            (r / d).mkdir(exist_ok=True)
        (r / "munge").chmod(0o700)
        key = r / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        for i in range(GPUS):  # stand-in GPU device files (see the module's docstring)
            device = r / "dev" / f"gpu{i}"
            try:
                os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))
            except OSError:
                device.touch()  # where device nodes cannot be made, slurmd logs an error and still counts it
        host = socket.gethostname().split(".")[0]
        cpus = self.node_cpus()
        self.socket_path = r / "munge" / "munge.sock"
        auth = f"socket={self.socket_path}"
        self.conf.write_text("\n".join([
            f"ClusterName={CLUSTER}",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={self.slurmd_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            # cred_expire: how long a requeued job waits before it may start again (default 120 s)
            f"AuthInfo={auth},cred_expire=5",
            f"StateSaveLocation={r / 'state'}",
            f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'slurmctld.pid'}",
            f"SlurmdPidFile={r / 'slurmd.pid'}",
            f"SlurmctldLogFile={r / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={r / 'log' / 'slurmd.log'}",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "GresTypes=gpu",
            "AccountingStorageType=accounting_storage/slurmdbd",
            "AccountingStorageHost=127.0.0.1",
            f"AccountingStoragePort={self.dbd_port}",
            # for slurmdbd with munge, the "password" is the munge socket that talks to slurmdbd
            f"AccountingStoragePass={auth}",
            "AccountingStorageTRES=gres/gpu",
            "JobCompType=jobcomp/none",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=bf_interval=1",
            "ReturnToService=2",
            "SlurmctldTimeout=10",
            "SlurmdTimeout=10",
            "InactiveLimit=0",
            "MinJobAge=2",
            "KillWait=2",
            f"NodeName={NODE} NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 "
            f"Gres=gpu:{GPUS} State=UNKNOWN",
            f"PartitionName=gpu Nodes={NODE} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]))
        (r / "gres.conf").write_text(f"AutoDetect=off\nNodeName={NODE} Name=gpu Count={GPUS} File={r / 'dev'}/gpu[0-{GPUS - 1}]\n")
        dbd = r / "slurmdbd.conf"  # read from slurm.conf's folder
        dbd.write_text("\n".join([
            "AuthType=auth/munge",
            f"AuthInfo={auth}",
            "DbdHost=localhost",
            "DbdAddr=127.0.0.1",
            f"DbdPort={self.dbd_port}",
            "SlurmUser=root",
            f"PidFile={r / 'slurmdbd.pid'}",
            f"LogFile={r / 'log' / 'slurmdbd.log'}",
            "DebugLevel=info",
            "StorageType=accounting_storage/mysql",
            f"StorageHost={MARIADB['host']}",
            f"StoragePort={MARIADB['port']}",
            f"StorageUser={MARIADB['user']}",
            f"StorageLoc={self.database}",
            "",
        ]))
        dbd.chmod(0o600)

    @staticmethod
    def node_cpus() -> int:
        found = re.search(r"\bCPUs=(\d+)", subprocess.run(["slurmd", "-C"], capture_output=True, text=True,
                                                         timeout=30).stdout)
        return max(1, int(found.group(1))) if found else 1

    # -- daemons and commands ------------------------------------------------------------------------------------
    def start(self, name: str, *argv: str) -> subprocess.Popen:
        out = open(self.root / "log" / f"{name}.out", "wb")  # noqa: SIM115 - the daemon's for its lifetime
        process = subprocess.Popen(argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=self.root, start_new_session=True)
        out.close()
        self.daemons.append((name, process))
        return process

    def logs(self) -> str:
        parts = []
        for path in sorted((self.root / "log").iterdir()):
            text = path.read_text(errors="replace").strip()
            if text:
                parts.append(f"--- {path.name} (last lines)\n" + "\n".join(text.splitlines()[-15:]))
        return "\n".join(parts)

    def run(self, *argv: str, check: bool = True, timeout: float = 30) -> str:
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}\n{self.logs()}")
        return done.stdout

    def wait(self, what: str, ready, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.daemons:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited ({process.returncode}) while waiting for {what}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.2)
        pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")

    def answers(self, *argv: str, expect: str = "") -> bool:
        try:
            done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=10, cwd=self.root)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0 and expect in done.stdout

    def mark(self, what: str) -> None:
        self.timings[what] = time.monotonic() - self.t0

    def boot(self) -> None:
        self.t0 = time.monotonic()
        self.write_config()
        m = self.root / "munge"
        self.start("munged", "munged", "--foreground", "--force", f"--socket={self.socket_path}",
                   f"--key-file={m / 'munge.key'}", f"--pid-file={m / 'munged.pid'}", f"--seed-file={m / 'munged.seed'}",
                   f"--log-file={self.root / 'log' / 'munged.log'}", "--num-threads=4")
        # --force: munged refuses a socket below directories that not everyone may enter (pytest's tmp dirs
        # are 0700); every client here is root, so the warning it logs instead is harmless.
        self.wait("munged", lambda: self.answers("munge", "-S", str(self.socket_path), "-n"))
        self.start("slurmdbd", "slurmdbd", "-D")
        self.wait("slurmdbd", lambda: self.answers("sacctmgr", "-n", "-P", "list", "cluster"))
        self.mark("slurmdbd up")
        self.run("sacctmgr", "-i", "add", "cluster", CLUSTER)
        self.run("sacctmgr", "-i", "add", "account", ",".join(ACCOUNTS), f"cluster={CLUSTER}")
        self.run("sacctmgr", "-i", "add", "user", "root", f"account={','.join(ACCOUNTS)}", f"cluster={CLUSTER}")
        self.start("slurmctld", "slurmctld", "-D", "-i")
        self.wait("slurmctld", lambda: self.answers("scontrol", "ping", expect="is UP"))
        self.start("slurmd", "slurmd", "-D", "-N", NODE)
        self.wait(f"{NODE} idle", lambda: self.answers("sinfo", "-h", "-n", NODE, "-o", "%T", expect="idle"))
        self.mark("node idle")

    def stop(self) -> None:
        if any(p.poll() is None for n, p in self.daemons if n == "slurmctld"):
            self.run("scancel", "-u", "root", check=False)  # a failed test's jobs, so no slurmstepd lingers
            with contextlib.suppress(subprocess.TimeoutExpired):
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and self.run("squeue", "-h", check=False).strip():
                    time.sleep(0.3)
        for name, process in reversed(self.daemons):
            if process.poll() is None:
                self.mark(f"stopping {name}")
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)

    def sbatch(self, *options: str, sleep: int = 2) -> str:
        return self.run("sbatch", "--parsable", f"--chdir={self.root / 'jobs'}", "--output=%j.out",
                        *options, f"--wrap=sleep {sleep}").strip().split(";")[0]

    def state(self, job: str) -> str:
        return self.run("squeue", "-h", "-j", job, "-o", "%T", check=False).strip()


@pytest.fixture(scope="module")
def slurm(tmp_path_factory, worker_id):
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.fail(f"Slurm is not installed ({', '.join(missing)} missing): bin/test installs Debian's "
                    "slurm-wlm, slurmdbd and munge.")
    database = f"slurm_acct_test_{secrets.token_hex(4)}"
    ports, lock = choose_ports(worker_id)
    cluster = Slurm(tmp_path_factory.mktemp("slurm"), ports, database)
    try:
        mariadb(f"CREATE DATABASE {database}")
        cluster.boot()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            mariadb(f"DROP DATABASE IF EXISTS {database}")
            lock.close()
            print(f"Slurm on ports {ports}, database {database}, in {cluster.root}: "
                  + ", ".join(f"{k} after {v:.1f} s" for k, v in cluster.timings.items()))


def gres_gpu(tres: str) -> int:
    """The `gres/gpu=N` item of an AllocTRES string, read here without the portal's parser."""
    items = dict(item.split("=", 1) for item in tres.split(",") if "=" in item)
    return int(items.get("gres/gpu", 0))


def kst(moment: dt.datetime) -> str:
    return moment.astimezone(sacct.KST).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_portal_reads_the_gpu_jobs_of_a_real_slurm(slurm, db, tmp_path):
    began = timezone.now()
    # A job requeued while it runs: Slurm keeps a REQUEUED record of that run, and the next run's.
    requeued = slurm.sbatch("--requeue", "-A", "msit-llm01", "--gres=gpu:4", sleep=3)
    slurm.wait(f"job {requeued} running", lambda: slurm.state(requeued) == "RUNNING")
    time.sleep(1.5)  # a run of at least a second
    slurm.run("scontrol", "requeue", requeued)
    gpu_jobs = {
        requeued: 4,
        slurm.sbatch("-A", "msit-llm01", "--gres=gpu:1"): 1,
        slurm.sbatch("-A", "msit-llm01", "--gres=gpu:2", "-N1"): 2,
        slurm.sbatch("-A", "mohw-medimg02", "--gres=gpu:8"): 8,
    }
    cpu_only = slurm.sbatch("-A", "msit-llm01")
    jobs = [*gpu_jobs, cpu_only]
    slurm.wait("the jobs to finish", lambda: not slurm.run("squeue", "-h", "-j", ",".join(jobs), check=False).strip(),
               timeout=90)

    def sacct_output() -> str:
        return slurm.run("sacct", "--parsable2", "--noheader", "--duplicates", "--truncate", "--allusers",
                         f"--starttime={kst(began - dt.timedelta(minutes=5))}",
                         f"--endtime={kst(timezone.now() + dt.timedelta(minutes=5))}", f"--format={SACCT_FORMAT}")

    def allocations(text: str) -> list[dict[str, str]]:
        rows = [dict(zip(SACCT_FORMAT.split(","), line.split("|"), strict=True)) for line in text.splitlines() if line]
        return [r for r in rows if "." not in r["JobID"]]

    def recorded() -> bool:  # slurmctld sends job records to slurmdbd on its own time
        rows = allocations(sacct_output())
        return len(rows) == len(jobs) + 1 and all(r["End"] not in ("Unknown", "None", "") for r in rows)

    slurm.mark("jobs finished")
    slurm.wait("the jobs' records in slurmdbd", recorded, timeout=30)
    slurm.mark("jobs recorded")
    text = sacct_output()
    path = tmp_path / "sacct.txt"
    path.write_text(text)
    rows = allocations(text)

    # What Slurm recorded, read without the portal: each job's GPUs as asked, the requeued job twice.
    assert {r["JobIDRaw"] for r in rows} == set(jobs)
    assert all(r["Cluster"] == CLUSTER and r["NodeList"] == NODE for r in rows)
    assert [r["State"] for r in rows if r["JobIDRaw"] == requeued] == ["REQUEUED", "COMPLETED"]
    assert {r["JobIDRaw"]: gres_gpu(r["AllocTRES"]) for r in rows} == {**gpu_jobs, cpu_only: 0}
    assert all(int(r["ElapsedRaw"]) >= 1 for r in rows)
    assert any("." in line.split("|")[1] for line in text.splitlines())  # step rows too, which must not count
    expected = sum(int(r["ElapsedRaw"]) * gres_gpu(r["AllocTRES"]) for r in rows)
    by_account = {a: sum(int(r["ElapsedRaw"]) * gres_gpu(r["AllocTRES"]) for r in rows if r["Account"] == a)
                  for a in ACCOUNTS}
    assert expected > 0 and all(by_account.values())

    # The portal: nb200-001 is held by a started project, so every GPU-second of it is that project's.
    cluster = f.make_cluster(servers=1, code="nb200")
    (server,) = cluster.servers.all()
    assert server.hostname == NODE
    today = timezone.localdate()
    project = f.make_project(f.make_ministry(), started=True, code="P-SLURM", gpus=GPUS,
                             planned_start=today - dt.timedelta(days=60), end_date=today + dt.timedelta(days=365))
    f.award(project, [server], start=today - dt.timedelta(days=60), end=today + dt.timedelta(days=365))
    # The KST month of the jobs (both months, should the test run across a month's end: Slurm's records are
    # then split at the edge, and the two months' figures add up to the whole).
    months = sorted({timezone.localdate(began).replace(day=1), timezone.localdate().replace(day=1)})
    batches, to_project = [], 0.0
    for month in months:
        received = sacct_receive(actor=None, provider=cluster.provider, file=io.BytesIO(path.read_bytes()),
                                 file_name="sacct.txt", month=month, now=timezone.now(), check_permission=False)
        assert received.changed and set(received.by_holder) <= {"project"}
        batches.append(received.batch)
        to_project += received.by_holder.get("project", 0.0)
    for batch in batches:
        assert batch.runs == len(gpu_jobs) + 1  # the CPU-only job is no run; the requeued job ran twice
        assert batch.provisional == 0 and batch.unknown_nodes == []
    assert sum(b.gpu_seconds for b in batches) == pytest.approx(expected) == to_project
    held = sum(MeasuredUsage.objects.filter(project=project, holder_kind="project").values_list("gpu_seconds", flat=True))
    assert held == pytest.approx(expected) and MeasuredUsage.objects.exclude(project=project).count() == 0
    runs = list(sacct.parse(text.splitlines(), period_start=batches[0].period_start, period_end=timezone.now()))
    assert sorted(r.job_id_raw for r in runs) == sorted([*gpu_jobs, requeued])
    assert {a: sum(r.gpu_seconds for r in runs if r.account == a) for a in ACCOUNTS} == by_account

    # The same file through the command: the same figures, so nothing changes.
    out, hours = io.StringIO(), batch.gpu_seconds / 3600  # the (last) month's figure: all of it, but at a month's end
    call_command("import_usage", str(path), provider=cluster.provider.code, month=f"{month:%Y-%m}", stdout=out)
    assert f"{batch.runs} job runs, {hours:.2f} GPU-hours, 0 still running; unchanged" in out.getvalue()
    assert f"project: {hours:.2f} GPU-hours" in out.getvalue()
