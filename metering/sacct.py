"""Slurm accounting (`sacct --parsable2`) as allocated GPU time per job run, node and KST month.

What the portal asks providers to run (../shared/telemetry/TELEMETRY.md §1.2):

    TZ=Asia/Seoul sacct --parsable2 --noheader --duplicates --truncate --allusers \\
      --starttime=... --endtime=... \\
      --format=JobIDRaw,JobID,Cluster,Account,User,State,Submit,Start,End,ElapsedRaw,AllocTRES,NodeList

A file with a header line may order its columns in any way (and carry more of them). The rules,
each from Slurm's own documentation and sources:
- a run's GPU time is ElapsedRaw × gres/gpu: when ElapsedRaw is shorter than End − Start (the job
  was suspended for a while), each part of the run counts in that proportion;
- only allocation rows count: step rows (`123.batch`, `123.extern`, `123.0`) repeat the job's TRES;
- GPUs are the `gres/gpu=N` item of AllocTRES, exactly (`gres/gpu:b200=N` is the same GPUs again);
- every `--duplicates` record counts: a requeued job's earlier runs consumed GPUs too, so a run is
  keyed by (JobIDRaw, Start), never by JobIDRaw alone;
- pending array remainders (`41700_[8-9]`), rows with no start and rows with no GPUs are skipped;
- times are local (KST) without an offset; a running job (End `Unknown`) counts up to the period's
  end and is marked provisional, to be re-closed by a later upload;
- a run crossing a month is split at KST month edges; a run is clipped to the period asked for, as
  `--truncate` would, so a file without `-T` gives the same figures;
- a node list (`nb200-[001-004]`) is expanded (python-hostlist) and the run's GPUs are spread evenly
  over its nodes."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import hostlist
from django.utils.translation import gettext as _

KST = ZoneInfo("Asia/Seoul")
DEFAULT_COLUMNS = ["JobIDRaw", "JobID", "Cluster", "Account", "User", "State", "Submit", "Start", "End",
                   "ElapsedRaw", "AllocTRES", "NodeList"]
NEEDED = {"JobIDRaw", "JobID", "Account", "State", "Start", "End", "ElapsedRaw", "AllocTRES", "NodeList"}
GPU_TRES = re.compile(r"(?:^|,)gres/gpu=(\d+)(?:,|$)")
UNSET = {"", "Unknown", "None"}
MAX_NODES = 4096  # one job's node list, expanded
MAX_FIELD = 4096


class SacctError(ValueError):
    """A line of the file that cannot be read; `line` is 1-based. Its words are in the reader's language."""

    def __init__(self, line: int, message: str):
        super().__init__(_("line %(line)s: %(problem)s") % {"line": line, "problem": message})
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Piece:
    """Part of one job run on one node within one KST month."""

    month: dt.date
    start: dt.datetime
    end: dt.datetime
    gpus: float  # the run's GPUs on this node (its gres/gpu over its nodes)

    @property
    def gpu_seconds(self) -> float:
        return (self.end - self.start).total_seconds() * self.gpus


@dataclass
class JobRun:
    """One allocation record of sacct: one run of a job (a requeued job has several)."""

    line: int
    job_id_raw: str
    job_id: str
    cluster: str
    account: str
    user: str
    state: str
    start: dt.datetime
    end: dt.datetime | None  # None while running
    elapsed_raw: int
    gpus: int
    nodes: list[str]
    pieces: list[Piece] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.end is None

    @property
    def key(self) -> str:
        """What identifies this run across uploads: the job and when this run started."""
        return f"{self.cluster}:{self.job_id_raw}:{self.start.isoformat()}"

    @property
    def gpu_seconds(self) -> float:
        return sum(p.gpu_seconds for p in self.pieces)


def _time(value: str, line: int, column: str) -> dt.datetime | None:
    value = value.strip()
    if value in UNSET:
        return None
    try:
        if value.isdigit():  # SLURM_TIME_FORMAT=%s
            return dt.datetime.fromtimestamp(int(value), tz=KST)
        moment = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise SacctError(line, _("%(column)s is not a time: %(value)r") % {"column": column, "value": value[:40]}) from None
    return moment.replace(tzinfo=KST) if moment.tzinfo is None else moment.astimezone(KST)


def _month_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: dt.datetime) -> dt.datetime:
    start = _month_start(moment)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def split_by_month(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.date, dt.datetime, dt.datetime]]:
    """[start, end) cut at KST month edges."""
    start, end = start.astimezone(KST), end.astimezone(KST)
    while start < end:
        edge = min(end, _next_month(start))
        yield start.date().replace(day=1), start, edge
        start = edge


def _header(first: list[str]) -> list[str] | None:
    names = [c.strip() for c in first]
    return names if "JobIDRaw" in names and "AllocTRES" in names else None


def parse(lines: Iterable[str], *, period_start: dt.datetime, period_end: dt.datetime,
          max_rows: int | None = None) -> Iterator[JobRun]:
    """The allocation records of sacct output as job runs, clipped to [period_start, period_end)."""
    if period_end <= period_start:
        raise SacctError(0, _("the period ends before it starts"))
    columns: list[str] | None = None
    rows = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        if "\x00" in text:
            raise SacctError(number, _("a NUL byte"))
        values = text.split("|")
        if columns is None:
            columns = _header(values)
            if columns is not None:
                missing = NEEDED - set(columns)
                if missing:
                    raise SacctError(number, _("columns missing: %(columns)s") % {"columns": ", ".join(sorted(missing))})
                continue
            columns = DEFAULT_COLUMNS
        if len(values) != len(columns):
            raise SacctError(number, _("%(n)s fields where the format has %(expected)s") % {"n": len(values), "expected": len(columns)})
        if any(len(v) > MAX_FIELD for v in values):
            raise SacctError(number, _("a field over %(n)s characters") % {"n": MAX_FIELD})
        row = dict(zip(columns, values, strict=True))
        rows += 1
        if max_rows is not None and rows > max_rows:
            raise SacctError(number, _("more than %(n)s rows") % {"n": max_rows})
        run = _run(row, number, period_start, period_end)
        if run is not None:
            yield run


def _run(row: dict[str, str], line: int, period_start: dt.datetime, period_end: dt.datetime) -> JobRun | None:
    job_id_raw, job_id = row["JobIDRaw"].strip(), row["JobID"].strip()
    if "." in job_id_raw or "." in job_id:
        return None  # a step row: its TRES repeat the job's
    if "_[" in job_id:
        return None  # a pending array remainder
    gpus_match = GPU_TRES.search(row["AllocTRES"])
    gpus = int(gpus_match.group(1)) if gpus_match else 0
    start = _time(row["Start"], line, "Start")
    if gpus == 0 or start is None:
        return None
    end = _time(row["End"], line, "End")
    try:
        elapsed = int(row["ElapsedRaw"] or 0)
    except ValueError:
        raise SacctError(line, _("ElapsedRaw is not a number: %(value)r") % {"value": row["ElapsedRaw"][:20]}) from None
    if elapsed < 0 or (end is not None and end < start):
        raise SacctError(line, _("the run ends before it starts"))
    node_list = row["NodeList"].strip()
    if node_list in UNSET or node_list == "None assigned":
        raise SacctError(line, _("a run with GPUs but no nodes"))
    try:
        nodes = list(_expand(node_list))
    except hostlist.BadHostlist:
        raise SacctError(line, _("the node list cannot be read: %(value)r") % {"value": node_list[:60]}) from None
    if not nodes or len(nodes) > MAX_NODES:
        raise SacctError(line, _("a node list of no nodes, or of more than %(n)s") % {"n": MAX_NODES})
    run = JobRun(
        line=line, job_id_raw=job_id_raw, job_id=job_id, cluster=row.get("Cluster", "").strip(),
        account=row["Account"].strip(), user=row.get("User", "").strip(), state=row["State"].split(" ")[0].strip(),
        start=start, end=end, elapsed_raw=elapsed, gpus=gpus, nodes=nodes,
    )
    lo, hi = max(start, period_start), min(end or period_end, period_end)
    # ElapsedRaw is the time the job ran: less than End - Start when it was suspended for a while.
    wall = (end - start).total_seconds() if end is not None else 0
    ran = elapsed / wall if end is not None and 0 < elapsed < wall else 1.0
    per_node = gpus * ran / len(nodes)
    for month, a, b in split_by_month(lo, hi):
        run.pieces += [Piece(month=month, start=a, end=b, gpus=per_node) for _node in nodes]
    return run


@functools.lru_cache(maxsize=65536)
def _expand(node_list: str) -> tuple[str, ...]:
    """A node list expanded (the same lists recur across a month of jobs: kept once)."""
    return tuple(hostlist.expand_hostlist(node_list))


def node_pieces(run: JobRun) -> Iterator[tuple[str, Piece]]:
    """Each (node, piece) of a run: pieces are stored month by month, node by node."""
    months = len(run.pieces) // len(run.nodes) if run.nodes else 0
    for m in range(months):
        for n, node in enumerate(run.nodes):
            yield node, run.pieces[m * len(run.nodes) + n]
