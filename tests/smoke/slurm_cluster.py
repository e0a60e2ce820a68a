"""A real single-node SLURM for the tests, from Debian's packages (slurm-wlm: munge, slurmctld, slurmd;
slurmdbd and MariaDB for accounting), run as root without systemd: every daemon on 127.0.0.1 on free
ports, every file in one temporary folder, stopped at the end.

The node declares 4 CPUs and 12 GB whatever the machine has (`SlurmdParameters=config_overrides`), so
that a few tiny jobs fit at once, and one fake GPU (`gpu:h100:1`, a character device made with mknod):
SLURM hands it out and sets `CUDA_VISIBLE_DEVICES`, and the CPU build of torch finds no CUDA behind it.
Memory is enforced without cgroups, by SLURM polling each job's memory every second
(`JobAcctGatherParams=OverMemoryKill`). A job whose node fails is not requeued (`JobRequeue=0`, as many
sites set it), so that a node failure reaches kb as NODE_FAIL.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel")
ACCOUNTING = ("slurmdbd", "mariadbd", "mariadb-install-db", "sacct", "sacctmgr")
PACKAGES = "slurmctld slurmd slurm-client munge (and slurmdbd mariadb-server for accounting)"
NODE = "kbnode"
PARTITION = "debug"
MAX_TIME_MINUTES = 5
"""The partition's time limit: a card asking for more waits for ever (PartitionTimeLimit)."""
CPUS = 4


def missing(accounting: bool) -> str:
    """Why this machine cannot run the cluster, or '' when it can."""
    if os.geteuid() != 0:
        return "the test cluster's daemons (slurmd, munged as its own user) must be started as root"
    absent = [c for c in COMMANDS + (ACCOUNTING if accounting else ()) if shutil.which(c) is None]
    if absent:
        return (
            f"SLURM is not installed ({', '.join(absent)} not found): Debian's packages {PACKAGES}; "
            "`scripts/system-deps.sh test` installs them"
        )
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "the munge user does not exist (Debian's munge package creates it)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SlurmCluster:
    """One controller, one node, one partition; optionally slurmdbd with MariaDB for accounting."""

    def __init__(self, accounting: bool) -> None:
        self.accounting = accounting
        self.dir = Path(tempfile.mkdtemp(prefix="kb-slurm-"))
        self.dir.chmod(0o755)  # the munge user must reach its socket folder
        self.conf = self.dir / "slurm.conf"
        self.host = socket.gethostname()
        self.ports = {name: _free_port() for name in ("ctld", "slurmd", "dbd", "mysql")}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.overrides: dict[str, str] = {}
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._munge()
            if self.accounting:
                self._mariadb()
            self._write_conf()
            if self.accounting:
                self._slurmdbd()
            self._start("slurmctld", ["slurmctld", "-D", "-f", str(self.conf)])
            self._wait(lambda: self.run("scontrol", "ping", check=False).returncode == 0, "slurmctld")
            self._start("slurmd", ["slurmd", "-D", "-N", NODE, "-f", str(self.conf)])
            self._wait(self._node_idle, "slurmd (the node to be idle)")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every job and daemon started, and remove the folder."""
        with contextlib.suppress(Exception):
            if "slurmctld" in self.procs:
                self.run("scancel", "--full", f"--partition={PARTITION}", check=False)
                busy = ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING")
                self._wait(
                    lambda: not [j for j, (_, s) in self.jobs().items() if s in busy], "jobs to end", 15
                )
        self._kill_strays()  # slurmd waits for its job steps: a step the controller forgot stays
        for name in ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged"):  # the node first
            self._kill(name)
        self._kill_strays()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _kill_strays(self) -> None:
        """Kill the processes this cluster's daemons started (job steps, slurmstepd): they carry its
        SLURM_CONF. Not the daemons themselves, nor this process."""
        mine = f"SLURM_CONF={self.conf}".encode()
        spared = {os.getpid(), *(p.pid for p in self.procs.values())}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) in spared:
                continue
            with contextlib.suppress(OSError):
                if mine in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)

    def restart_controller(self, clear: bool) -> None:
        """Stop slurmctld and start it again; `clear`: without its saved state (it forgets every job)."""
        self._kill("slurmctld")
        self._start("slurmctld", ["slurmctld", "-D", *(["-c"] if clear else []), "-f", str(self.conf)])
        self._wait(lambda: self.run("scontrol", "ping", check=False).returncode == 0, "slurmctld")

    @contextlib.contextmanager
    def configured(self, **options: str) -> Iterator[None]:
        """slurm.conf with these options for the block (`scontrol reconfigure`), then as before."""
        self.overrides = options
        self._write_conf()
        self.run("scontrol", "reconfigure")
        try:
            yield
        finally:
            self.overrides = {}
            self._write_conf()
            self.run("scontrol", "reconfigure")

    def resume_node(self) -> None:
        self.run("scontrol", "update", f"NodeName={NODE}", "State=RESUME", check=False)
        self._wait(self._node_idle, "the node to be idle again")

    # --- asking it things --------------------------------------------------------------------------

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def jobs(self) -> dict[str, tuple[str, str]]:
        """Every job the controller holds: id -> (name, state)."""
        out = self.run("squeue", "--noheader", "--states=all", "--format=%i|%j|%T", check=False).stdout
        return {
            i: (n, s) for i, n, s in (line.split("|") for line in out.splitlines() if line.count("|") == 2)
        }

    def wait_for_job(
        self, name: str, state: str, timeout: float = 120, *, not_in: Collection[str] = ()
    ) -> str:
        """The id of the job named `name` once it is in `state`, leaving out the jobs `not_in` (those
        that were there before: the cluster is shared by the tests, and SLURM shows an ended job a while)."""
        found: list[str] = []

        def there() -> bool:
            jobs = self.jobs().items()
            found[:] = [i for i, (n, s) in jobs if n == name and s == state and i not in not_in]
            return bool(found)

        self._wait(there, f"job {name} to be {state}", timeout)
        return found[0]

    # --- the pieces --------------------------------------------------------------------------------

    def _munge(self) -> None:
        munge = self.dir / "munge"
        munge.mkdir(mode=0o700)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        run = self.dir / "run"
        run.mkdir(mode=0o755)
        for path in (munge, key, run):
            shutil.chown(path, "munge", "munge")
        self.socket = run / "munge.socket"
        command = [
            "munged", "--foreground", f"--socket={self.socket}", f"--key-file={key}",
            f"--log-file={munge / 'munged.log'}", f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
        ]  # fmt: skip
        self._start("munged", command, user="munge")  # munged refuses to run as root
        self._wait(self.socket.exists, "munged")

    def _mariadb(self) -> None:
        data = self.dir / "mysql"
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        command = [
            "mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={self.dir / 'mysql.sock'}",
            f"--port={self.ports['mysql']}", "--bind-address=127.0.0.1", "--user=root",
            f"--pid-file={self.dir / 'mysql.pid'}", f"--log-error={self.dir / 'mysql.log'}",
            "--skip-log-bin", "--innodb-buffer-pool-size=32M",
        ]  # fmt: skip
        self._start("mariadbd", command)
        self._wait(lambda: self._port_open(self.ports["mysql"]), "MariaDB")

    def _slurmdbd(self) -> None:
        conf = self.dir / "slurmdbd.conf"  # found beside slurm.conf (SLURM_CONF)
        conf.write_text(
            "\n".join(
                [
                    "AuthType=auth/munge",
                    f"AuthInfo=socket={self.socket}",
                    "DbdHost=localhost",
                    "DbdAddr=127.0.0.1",
                    f"DbdPort={self.ports['dbd']}",
                    "SlurmUser=root",
                    "StorageType=accounting_storage/mysql",
                    "StorageHost=127.0.0.1",
                    f"StoragePort={self.ports['mysql']}",
                    "StorageUser=root",
                    "StorageLoc=kb_slurm_acct",
                    f"PidFile={self.dir / 'slurmdbd.pid'}",
                    f"LogFile={self.dir / 'slurmdbd.log'}",
                ]
            )
            + "\n"
        )
        conf.chmod(0o600)
        self._start("slurmdbd", ["slurmdbd", "-D"])
        self._wait(lambda: self._port_open(self.ports["dbd"]), "slurmdbd")
        self._wait(
            lambda: self.run("sacctmgr", "-i", "add", "cluster", "kbtest", check=False).returncode == 0,
            "sacctmgr",
        )

    def _write_conf(self) -> None:
        d = self.dir
        (d / "state").mkdir(exist_ok=True)
        (d / "spool").mkdir(exist_ok=True)
        gpu = d / "gpu0"
        if not gpu.exists():
            os.mknod(gpu, 0o666 | 0o020000, os.makedev(1, 3))  # a character device, as /dev/null
        options = {
            "ClusterName": "kbtest",
            "SlurmctldHost": f"{self.host}(127.0.0.1)",
            "SlurmctldPort": str(self.ports["ctld"]),
            "SlurmdPort": str(self.ports["slurmd"]),
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "AuthInfo": f"socket={self.socket}",
            "CredType": "cred/munge",
            "StateSaveLocation": str(d / "state"),
            "SlurmdSpoolDir": str(d / "spool"),
            "SlurmctldPidFile": str(d / "slurmctld.pid"),
            "SlurmdPidFile": str(d / "slurmd.pid"),
            "SlurmctldLogFile": str(d / "slurmctld.log"),
            "SlurmdLogFile": str(d / "slurmd.log"),
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "JobAcctGatherType": "jobacct_gather/linux",
            "JobAcctGatherFrequency": "task=1",
            "JobAcctGatherParams": "OverMemoryKill",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core_Memory",
            "GresTypes": "gpu",
            "MpiDefault": "none",
            "ReturnToService": "2",
            "JobRequeue": "0",
            "KillWait": "2",
            "MessageTimeout": "5",
            "CommunicationParameters": "NoCtldInAddrAny,NoInAddrAny",
            "SlurmdParameters": "config_overrides",
            "JobCompType": "jobcomp/none",
            "AccountingStorageType": "accounting_storage/none",
        }
        if self.accounting:
            options.update(
                AccountingStorageType="accounting_storage/slurmdbd",
                AccountingStorageHost="127.0.0.1",
                AccountingStoragePort=str(self.ports["dbd"]),
                AccountingStoragePass=str(self.socket),
            )
        options.update(self.overrides)
        lines = [f"{k}={v}" for k, v in options.items()]
        lines.append(
            f"NodeName={NODE} NodeHostname={self.host} NodeAddr=127.0.0.1 CPUs={CPUS} RealMemory=12000 "
            "Gres=gpu:h100:1 State=UNKNOWN"
        )
        lines.append(
            f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime={MAX_TIME_MINUTES} State=UP"
        )
        self.conf.write_text("\n".join(lines) + "\n")
        (d / "gres.conf").write_text(f"NodeName={NODE} Name=gpu Type=h100 File={gpu}\n")

    def _node_idle(self) -> bool:
        out = self.run("sinfo", "--noheader", "--format=%T", check=False).stdout.split()
        return out == ["idle"]

    def _port_open(self, port: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _start(self, name: str, command: list[str], user: str | None = None) -> None:
        with (self.dir / f"{name}.out").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )

    def _kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Until `ready()`; an error with the daemons' logs if a daemon stopped or time ran out."""
        self._wait(ready, what, timeout)

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                    for p in sorted(self.dir.glob("*.out"))
                )
                raise RuntimeError(f"the test SLURM did not start ({what}; stopped: {dead}):\n{logs}")
            time.sleep(0.2)
