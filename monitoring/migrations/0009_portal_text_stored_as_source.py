"""Texts the portal wrote in its writer's language are stored as its source strings, so each reader
sees them in theirs: a bulk upload's version note, and an off-purpose case opened from a report
(which kept "<month> 보고서에서 신고: <notes>"; the case's page now says that itself, from the
report it links to, and the note keeps what the ministry typed)."""

from django.db import migrations

BULK = {"일괄 업로드.": "Bulk upload."}


def forward(apps, schema_editor):
    version = apps.get_model("monitoring", "UsageReportVersion")
    for written, source in BULK.items():
        version.objects.filter(note=written).update(note=source)
    case = apps.get_model("monitoring", "ReclamationCase")
    from_reports = case.objects.filter(kind="off_purpose", opened_by__isnull=True, source_report__isnull=False)
    for row in from_reports.select_related("source_report").only("pk", "evidence_note", "source_report__notes"):
        notes = (row.source_report.notes or "").strip()
        if notes and row.evidence_note != notes and row.evidence_note.endswith(notes):
            case.objects.filter(pk=row.pk).update(evidence_note=notes)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0008_watched_for_kept_figures")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
