"""GPU telemetry through a real Prometheus (Debian's): a day of DCGM exporter history written into its
TSDB with promtool, and a small exporter the test serves (the DCGM sample scrape) that it scrapes live;
`pull_usage` reads both through the HTTP API."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from allocation_portal.models import Role
from gpus.models import Server
from metering import telemetry
from metering.models import MeasuredUsage, UsageBatch
from metering.sacct import KST
from metering.services import telemetry_pull
from tests import factories as f

pytestmark = pytest.mark.django_db
PROM_SAMPLE = Path(__file__).resolve().parent / "data" / "dcgm_metrics.prom"
DAY = dt.date(2026, 10, 30)
START = dt.datetime(2026, 10, 30, tzinfo=KST)
GAP = (dt.datetime(2026, 10, 30, 10, tzinfo=KST), dt.datetime(2026, 10, 30, 12, tzinfo=KST))  # w01's exporter down


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history() -> str:
    """A day of 5-minute samples, 00:00 to 24:00 KST:
    - kc-b200-w01 (label `Hostname`): GPUs 0-3 busy 0.8, 4-5 at 0.1, 6-7 idle; no samples 10:00-12:00;
      GPU_UTIL beside it (never used: the primary metric is there);
    - kc-b200-w02 (label `hostname`, the 2026 exporter): GPUs 0-5 have no profiling metric, GPU_UTIL 50
      with one absurd reading (its hour is unknown); GPUs 6-7 busy 1.0, their pod ending at 12:00 (the GPU continues as a new
      series)."""
    lines = ["# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge"]
    steps = [START + dt.timedelta(minutes=5 * i) for i in range(289)]

    def in_gap(t):
        return GAP[0] <= t <= GAP[1]  # no sample at either edge: the same hours missing for left-open or closed ranges

    for gpu in range(8):
        value = 0.8 if gpu < 4 else 0.1 if gpu < 6 else 0.0
        for t in steps:
            if not in_gap(t):
                lines.append(f'DCGM_FI_PROF_GR_ENGINE_ACTIVE{{gpu="{gpu}",Hostname="kc-b200-w01",pod="train"}} '
                             f"{value} {int(t.timestamp())}")
    for gpu in (6, 7):
        for pod in ("eval-1", ""):
            for t in steps:
                if (pod and t <= START + dt.timedelta(hours=12)) or (not pod and t > START + dt.timedelta(hours=12)):
                    label = f',pod="{pod}"' if pod else ""
                    lines.append(f'DCGM_FI_PROF_GR_ENGINE_ACTIVE{{gpu="{gpu}",hostname="kc-b200-w02"{label}}} 1 '
                                 f"{int(t.timestamp())}")
    lines.append("# TYPE DCGM_FI_DEV_GPU_UTIL gauge")
    for gpu in range(8):
        for t in steps:
            if not in_gap(t):
                lines.append(f'DCGM_FI_DEV_GPU_UTIL{{gpu="{gpu}",Hostname="kc-b200-w01"}} 3 {int(t.timestamp())}')
    for gpu in range(8):
        for i, t in enumerate(steps):
            util = 100 if gpu >= 6 else 4294967295 if (gpu == 0 and i == 80) else 50
            lines.append(f'DCGM_FI_DEV_GPU_UTIL{{gpu="{gpu}",hostname="kc-b200-w02"}} {util} {int(t.timestamp())}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


class Exporter(http.server.BaseHTTPRequestHandler):
    """The DCGM exporter's scrape of kc-b200-w01 (the synthetic sample), on /metrics."""

    def do_GET(self):  # noqa: N802 (the handler's name)
        body = PROM_SAMPLE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.fail("Debian's prometheus is missing: the test command installs it")
    root = tmp_path_factory.mktemp("prometheus")
    data = root / "data"
    (root / "history.om").write_text(history())
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(root / "history.om"), str(data)],
                   check=True, capture_output=True, timeout=120)
    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: dcgm-exporter\n    static_configs: [{{targets: ['127.0.0.1:{exporter.server_address[1]}']}}]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        ["prometheus", f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={data}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(root / "prometheus.log", "wb"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("Prometheus did not start: " + (root / "prometheus.log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        exporter.shutdown()


@pytest.fixture
def holders(db):
    """kc-b200-w01 held by a started project; four GPUs of kc-b200-w02 lent, its other four nobody's."""
    cluster = f.make_cluster(servers=2, code="kc")
    w01, w02 = cluster.servers.order_by("hostname")
    Server.objects.filter(pk=w01.pk).update(hostname="kc-b200-w01")
    Server.objects.filter(pk=w02.pk).update(hostname="kc-b200-w02")
    project = f.make_project(f.make_ministry(), started=True, gpus=8)
    f.award(project, [w01])
    loan = f.make_loan(f.make_organisation(), gpus=f.server_gpus(w02)[:4], start=dt.date(2026, 10, 1),
                       end=dt.date(2026, 11, 1))
    return {"provider": cluster.provider, "project": project, "loan": loan,
            "operator": f.make_user(Role.PROVIDER, provider=cluster.provider)}


def gpu_hours(**filters) -> tuple[float, float]:
    rows = MeasuredUsage.objects.filter(**filters)
    return (round(sum(r.gpu_seconds for r in rows) / 3600, 2), round(sum(r.covered_seconds for r in rows) / 3600, 2))


def test_a_day_of_telemetry_is_busy_gpu_hours_per_gpu_with_its_coverage(prometheus, holders):
    (received,) = telemetry_pull(actor=holders["operator"], provider=holders["provider"], url=prometheus,
                                 first_day=DAY, last_day=DAY)
    assert received.changed
    # w01: the exporter was down two hours, so 22 of 24 hours are covered; missing is not idle
    assert gpu_hours(project=holders["project"]) == (round(4 * 0.8 * 22 + 2 * 0.1 * 22, 2), 8 * 22)
    # w02's four lent GPUs: no profiling metric, GPU_UTIL/100 instead; the hour of an absurd reading unknown
    assert gpu_hours(loan=holders["loan"]) == (0.5 * (4 * 24 - 1), 4 * 24 - 1)
    # its other four: nobody's; GPUs 6-7 counted once across the pod's end (max by GPU), not twice
    assert gpu_hours(holder_kind="unattributed") == (2 * 0.5 * 24 + 2 * 1.0 * 24, 4 * 24)
    assert MeasuredUsage.objects.filter(gpu__isnull=False).values("gpu").distinct().count() == 16
    assert received.batch.details["covered_gpu_seconds_by_metric"] == {
        telemetry.PRIMARY: (8 * 22 + 2 * 24) * 3600, telemetry.FALLBACK: (6 * 24 - 1) * 3600}
    # the same day again changes nothing; the command reads the same server
    out = io.StringIO()
    call_command("pull_usage", provider=holders["provider"].code, prometheus=prometheus, first="2026-10-30",
                 last="2026-10-30", stdout=out)
    assert "unchanged" in out.getvalue() and UsageBatch.objects.count() == 1


def test_the_live_scrape_of_the_dcgm_exporter_reads_as_each_gpus_activity(prometheus):
    """The exporter's real label layout (UUID, pod, namespace, Hostname …) scraped by Prometheus."""
    expected = {}
    for line in PROM_SAMPLE.read_text().splitlines():
        if line.startswith("DCGM_FI_PROF_GR_ENGINE_ACTIVE{"):
            gpu = int(line.split('gpu="')[1].split('"')[0])
            expected[gpu] = float(line.rsplit(" ", 1)[1])
    for _ in range(50):
        now = dt.datetime.now(tz=KST).replace(microsecond=0)
        samples = [s for s in telemetry.day_samples(prometheus, now - dt.timedelta(seconds=10), now, step_s=5)
                   if s.host == "kc-b200-w01" and s.metric == telemetry.PRIMARY]
        if {s.gpu for s in samples} == set(expected):
            break
        time.sleep(0.2)
    assert {s.gpu: round(s.busy, 6) for s in samples} == expected


def test_a_prometheus_that_refuses_or_is_not_there_is_a_clear_error(prometheus, holders):
    from allocation_portal.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as failed:
        telemetry_pull(actor=holders["operator"], provider=holders["provider"], url=f"http://127.0.0.1:{free_port()}",
                       first_day=DAY, last_day=DAY)
    assert "did not answer" in failed.value.message
    with pytest.raises(telemetry.PrometheusError) as refused:
        telemetry.query_range(prometheus, "sum(", START, START + dt.timedelta(hours=1), 3600)
    assert "bad_data" in str(refused.value)
    with pytest.raises(ValidationFailed):
        telemetry_pull(actor=holders["operator"], provider=holders["provider"], url=prometheus,
                       first_day=dt.date.today(), last_day=dt.date.today())
    assert not UsageBatch.objects.exists()


def test_an_operator_asks_the_api_to_pull_the_providers_prometheus(prometheus, holders, api_for):
    provider = holders["provider"]
    client = api_for(holders["operator"])
    body = {"provider": provider.code, "first_day": "2026-10-30", "last_day": "2026-10-30"}
    refused = client.post("/api/v1/metering/telemetry/", body, format="json")
    assert refused.status_code == 400 and "provider" in refused.json()["error"]["fields"]  # no address kept yet
    provider.prometheus_url = prometheus
    provider.save()
    pulled = client.post("/api/v1/metering/telemetry/", body, format="json")
    assert pulled.status_code == 200, pulled.content
    (day,) = pulled.json()
    assert day["changed"] and day["day"] == "2026-10-30" and day["covered_gpu_hours"] == 8 * 22 + 8 * 24 - 1
    other = f.make_user(Role.PROVIDER, provider=f.make_cluster(servers=1).provider)
    assert api_for(other).post("/api/v1/metering/telemetry/", body, format="json").status_code == 403
