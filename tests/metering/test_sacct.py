"""Slurm accounting from a provider: the parser gives the figures TELEMETRY.md §6.1 expects, and each
GPU-second goes to the holder of that server in the ledger at that time."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import pytest

from allocation_portal.errors import NotPermitted, ValidationFailed
from allocation_portal.models import AuditEvent, Role
from metering import sacct
from metering.models import MeasuredUsage, UsageBatch
from metering.services import sacct_receive
from tests import factories as f

SAMPLE = Path(__file__).resolve().parent / "data" / "sacct.txt"
OCTOBER = (dt.datetime(2026, 10, 1, tzinfo=sacct.KST), dt.datetime(2026, 11, 1, tzinfo=sacct.KST))
AFTER_OCTOBER = dt.datetime(2026, 11, 2, 9, 0, tzinfo=sacct.KST)  # when the sample was taken


def hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def sample_lines():
    return SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)


def test_the_parser_gives_the_documented_october_figures():
    runs = list(sacct.parse(sample_lines(), period_start=OCTOBER[0], period_end=OCTOBER[1]))
    by_account, by_job, by_user = Counter(), Counter(), Counter()
    for run in runs:
        by_account[run.account] += run.gpu_seconds
        by_job[run.job_id_raw] += run.gpu_seconds
        by_user[run.user] += run.gpu_seconds
    # allocation rows only, gres/gpu= only, every --duplicates record, clipped to October (KST)
    assert by_account == {"msit-llm01": 22_207_536, "mohw-medimg02": 1_444_056, "motie-mfg03": 440_440}
    assert hours(sum(by_account.values())) == 6692.23
    assert hours(by_job["40117"]) == 1825.52  # only its October part
    assert hours(by_job["41890"]) == 175.89  # running: counted to the period's end
    requeued = [r for r in runs if r.job_id_raw == "40981"]
    assert [hours(r.gpu_seconds) for r in requeued] == [187.36, 501.26] and len({r.key for r in requeued}) == 2
    assert {u: hours(s) for u, s in by_user.items()} == {
        "kimjh": 5457.96, "leesy": 710.8, "parkmk": 75.48, "choihw": 325.65, "jungdh": 4.9, "hanyj": 117.45}
    assert [r.job_id for r in runs if r.running] == ["41890"]
    assert not any("_[" in r.job_id or "." in r.job_id for r in runs)  # remainders and steps skipped


def test_the_portal_format_without_a_header_and_month_edges():
    line = "7|7|c|acct|u|COMPLETED|2026-10-31T20:00:00|2026-10-31T22:00:00|2026-11-01T02:00:00|14400|" \
           "billing=2,gres/gpu:b200=2,gres/gpu=2,node=2|n-[1-2]\n"
    (run,) = sacct.parse([line], period_start=OCTOBER[0], period_end=dt.datetime(2026, 12, 1, tzinfo=sacct.KST))
    assert run.nodes == ["n-1", "n-2"]
    by_month = Counter()
    for piece in run.pieces:
        by_month[piece.month] += piece.gpu_seconds
    assert by_month == {dt.date(2026, 10, 1): 2 * 2 * 3600, dt.date(2026, 11, 1): 2 * 2 * 3600}


def test_a_suspended_job_counts_the_time_it_ran():
    # ran 2 of its 4 wall-clock hours (ElapsedRaw 7200): 8 GPUs x 2 h, not 8 x 4
    line = ("8|8|c|acct|u|COMPLETED|2026-10-05T00:00:00|2026-10-05T00:00:00|2026-10-05T04:00:00|7200|"
            "gres/gpu=8|n-1\n")
    (run,) = sacct.parse([line], period_start=OCTOBER[0], period_end=OCTOBER[1])
    assert run.gpu_seconds == 8 * 7200


@pytest.mark.parametrize("bad, message", [
    ("1|1|c|a|u|COMPLETED|x|2026-13-01T00:00:00|Unknown|0|gres/gpu=1|n1\n", "Start is not a time"),
    ("1|1|c|a|u|COMPLETED|x|2026-10-02T00:00:00|2026-10-01T00:00:00|0|gres/gpu=1|n1\n", "ends before it starts"),
    ("1|1|c|a|u|COMPLETED|x|2026-10-02T00:00:00|Unknown|0|gres/gpu=1|n[1-\n", "node list"),
    ("1|1|c\n", "fields where the format has 12"),
    ("1|1|c|a|u|COMPLETED|x|2026-10-02T00:00:00|Unknown|zz|gres/gpu=1|n1\n", "ElapsedRaw"),
])
def test_unreadable_lines_are_named_by_number(bad, message):
    with pytest.raises(sacct.SacctError) as failed:
        list(sacct.parse(["\n", bad], period_start=OCTOBER[0], period_end=OCTOBER[1]))
    assert failed.value.line == 2 and message in failed.value.message


def receive(ledger, text=None, **extra):
    data = io.BytesIO((text if text is not None else SAMPLE.read_text(encoding="utf-8")).encode())
    return sacct_receive(actor=extra.pop("actor", ledger["operator"]), provider=ledger["provider"], file=data,
                         file_name="sacct.txt", month=dt.date(2026, 10, 1), now=AFTER_OCTOBER, **extra)


def test_each_gpu_second_goes_to_the_holder_of_that_server_at_that_time(ledger):
    received = receive(ledger)
    assert received.changed and received.batch.runs == 22 and received.batch.provisional == 1
    held = {(r.holder_kind, r.project_id, r.loan_id): 0.0 for r in MeasuredUsage.objects.all()}
    for r in MeasuredUsage.objects.all():
        held[(r.holder_kind, r.project_id, r.loan_id)] += r.gpu_seconds
    runs = list(sacct.parse(sample_lines(), period_start=OCTOBER[0], period_end=OCTOBER[1]))

    def on(*nodes):
        return sum(p.gpu_seconds for r in runs for node, p in sacct.node_pieces(r) if node in nodes)

    project = [f"nb200-00{i}" for i in range(1, 5)]
    idle = [f"nb200-00{i}" for i in range(5, 9)]
    assert hours(held[("project", ledger["started"].pk, None)]) == hours(on(*project)) == 5457.96  # kimjh's jobs
    assert hours(held[("idle", ledger["waiting"].pk, None)]) == hours(on(*idle))
    # Slurm does not say which GPUs of nb200-009 a job had: half the server is lent, so half its use
    assert hours(held[("loan", None, ledger["loan"].pk)]) == hours(on("nb200-009") / 2)
    assert hours(held[("reserve", None, None)]) == hours(on("nb200-010"))
    assert hours(held[("unattributed", None, None)]) == hours(on("nb200-011") + on("nb200-009") / 2)
    assert received.batch.unknown_nodes == [{"node": "nb200-012", "gpu_seconds": round(on("nb200-012"))}]
    assert hours(received.batch.gpu_seconds) == 6692.23
    # by KST day: the first of October holds 40117's first day, on each of its four servers
    first = MeasuredUsage.objects.filter(project=ledger["started"], day=dt.date(2026, 10, 1))
    assert first.count() == 4 and {round(r.gpu_seconds) for r in first} == {8 * 86400}


def test_the_same_file_twice_changes_nothing_and_a_correction_replaces_the_figures(ledger):
    first = receive(ledger)
    again = receive(ledger)
    assert not again.changed and again.batch == first.batch
    assert AuditEvent.objects.filter(action__startswith="metering.").count() == 1
    rows = MeasuredUsage.objects.count()
    corrected = "".join(line for line in sample_lines() if not line.startswith("40533"))
    replaced = receive(ledger, corrected)
    assert replaced.changed and replaced.replaced == first.batch
    assert list(UsageBatch.objects.filter(current=True)) == [replaced.batch]
    assert MeasuredUsage.objects.filter(batch=first.batch).count() == 0 and MeasuredUsage.objects.count() < rows
    event = AuditEvent.objects.get(action="metering.replace")
    assert event.before["gpu_hours"] == 6692.23 and event.after["gpu_hours"] < 6692.23


def test_only_the_providers_operators_and_msit_send_its_usage(ledger):
    other = f.make_user(Role.PROVIDER, provider=f.make_cluster(servers=1).provider)
    for actor in (other, f.make_user(Role.APPLICANT, organisation=f.make_organisation()), f.make_user(Role.AUDITOR)):
        with pytest.raises(NotPermitted):
            receive(ledger, actor=actor)
    assert receive(ledger, actor=f.make_user(Role.ADMIN)).changed
    assert not UsageBatch.objects.exclude(received_by__role=Role.ADMIN).exists()


def test_a_bad_file_is_a_clear_error_and_nothing_is_saved(ledger):
    with pytest.raises(ValidationFailed) as failed:
        receive(ledger, "JobIDRaw|JobID|AllocTRES\n1|1|gres/gpu=1\n")
    assert "columns missing" in str(failed.value.fields["file"])
    with pytest.raises(ValidationFailed):
        sacct_receive(actor=ledger["operator"], provider=ledger["provider"], file=io.BytesIO(b"\xff\xfe|"),
                      month=dt.date(2026, 10, 1), now=AFTER_OCTOBER)
    assert not UsageBatch.objects.exists() and not MeasuredUsage.objects.exists()


def test_a_provider_operator_sends_a_month_through_the_api_and_the_command(ledger, api_for, tmp_path, clock):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    clock.move_to(AFTER_OCTOBER)
    client = api_for(ledger["operator"])
    upload = SimpleUploadedFile("sacct.txt", SAMPLE.read_bytes(), content_type="text/plain")
    response = client.post("/api/v1/metering/sacct/", {"file": upload, "provider": ledger["provider"].code,
                                                        "month": "2026-10"}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gpu_hours"] == 6692.23 and body["runs"] == 22 and body["provisional_runs"] == 1
    assert body["gpu_hours_by_holder"]["project"] == 5457.96
    # the same month again, by the command, with no month given (the last month that ended): unchanged
    out = io.StringIO()
    call_command("import_usage", str(SAMPLE), provider=ledger["provider"].code, stdout=out)
    assert "unchanged" in out.getvalue() and UsageBatch.objects.count() == 1
    # another provider's operator, a bad month, an unknown provider: the API's one error shape
    other = f.make_user(Role.PROVIDER, provider=f.make_cluster(servers=1).provider)
    refused = api_for(other).post("/api/v1/metering/sacct/", {
        "file": SimpleUploadedFile("s.txt", b"x"), "provider": ledger["provider"].code}, format="multipart")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    bad = client.post("/api/v1/metering/sacct/", {"file": SimpleUploadedFile("s.txt", b"x"),
                                                   "provider": ledger["provider"].code, "month": "2026-13"},
                      format="multipart")
    assert bad.status_code == 400 and "month" in bad.json()["error"]["fields"]
    unknown = client.post("/api/v1/metering/sacct/", {"file": SimpleUploadedFile("s.txt", b"x"), "provider": "nope"},
                          format="multipart")
    assert unknown.status_code == 404


def test_a_delivery_over_the_metering_limit_is_refused_with_the_limit(ledger, api_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PORTAL_METERING_MAX_BYTES = 1024 * 1024 // 4  # 0.25 MB
    big = SimpleUploadedFile("sacct.txt", b"x" * (1024 * 1024 // 2))
    response = api_for(ledger["operator"]).post("/api/v1/metering/sacct/", {"file": big, "provider": ledger["provider"].code},
                                                format="multipart")
    assert response.status_code in (400, 413) and "0.25 MB" in response.content.decode()
    assert not UsageBatch.objects.exists()
