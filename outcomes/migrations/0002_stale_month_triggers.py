"""Triggers that mark kept outcome months stale when a row they were computed from changes.

Each marks the months a change can touch, and no others when it can tell: a report its month; a
request, loan or case the months of its decision, start or recall notice; a ledger row (a held GPU)
the months from where its old and new periods differ to their end; a measured-use delivery its
period. A change that could touch every month (an organisation's type or region, a project's pool or
start, a server's pool, a new policy) marks them all. Marking adds one to the kept months' `version`
(outcomes.store saves figures only for the version it read before computing them, so a change that
commits meanwhile leaves the month stale). Only ended months are kept, and most writes are about now
or later, so most writes touch no kept row at all.
"""

from django.db import migrations

TZ = "Asia/Seoul"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION outcomes_mark_range(lo timestamptz, hi timestamptz) RETURNS void AS $$
BEGIN
    IF lo IS NULL THEN RETURN; END IF;
    UPDATE outcomes_outcomemonth SET version = version + 1
     WHERE month >= date_trunc('month', lo AT TIME ZONE '{TZ}')::date
       AND (hi IS NULL OR (month::timestamp AT TIME ZONE '{TZ}') < hi);
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION outcomes_mark_moment(at timestamptz) RETURNS void AS $$
BEGIN
    IF at IS NULL THEN RETURN; END IF;
    UPDATE outcomes_outcomemonth SET version = version + 1
     WHERE month = date_trunc('month', at AT TIME ZONE '{TZ}')::date;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION outcomes_mark_all() RETURNS void AS $$
BEGIN
    UPDATE outcomes_outcomemonth SET version = version + 1;
END $$ LANGUAGE plpgsql;

-- A held GPU (gpus_allocationgpu): its period and the moment its holder took it over.
CREATE OR REPLACE FUNCTION outcomes_stale_held() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM outcomes_mark_range(lower(NEW.period), upper(NEW.period));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM outcomes_mark_range(lower(OLD.period), upper(OLD.period));
    ELSIF NEW.period IS DISTINCT FROM OLD.period OR NEW.in_use_from IS DISTINCT FROM OLD.in_use_from
          OR NEW.gpu_id IS DISTINCT FROM OLD.gpu_id OR NEW.allocation_id IS DISTINCT FROM OLD.allocation_id THEN
        PERFORM outcomes_mark_range(
            CASE WHEN lower(NEW.period) IS DISTINCT FROM lower(OLD.period) OR NEW.gpu_id IS DISTINCT FROM OLD.gpu_id
                      OR NEW.allocation_id IS DISTINCT FROM OLD.allocation_id
                      THEN LEAST(lower(NEW.period), lower(OLD.period))
                 WHEN NEW.in_use_from IS DISTINCT FROM OLD.in_use_from
                      THEN LEAST(COALESCE(NEW.in_use_from, lower(NEW.period)), COALESCE(OLD.in_use_from, lower(OLD.period)))
                 ELSE LEAST(upper(NEW.period), upper(OLD.period)) END,
            GREATEST(upper(NEW.period), upper(OLD.period)));
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A monthly report: its month (old and new).
CREATE OR REPLACE FUNCTION outcomes_stale_report() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM outcomes_mark_moment(OLD.month::timestamp AT TIME ZONE '{TZ}'); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM outcomes_mark_moment(NEW.month::timestamp AT TIME ZONE '{TZ}'); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A delivery of measured use: its period.
CREATE OR REPLACE FUNCTION outcomes_stale_batch() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM outcomes_mark_range(OLD.period_start, OLD.period_end); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM outcomes_mark_range(NEW.period_start, NEW.period_end); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A request: the month it was decided in (old and new).
CREATE OR REPLACE FUNCTION outcomes_stale_request() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM outcomes_mark_moment(OLD.reviewed_at); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM outcomes_mark_moment(NEW.reviewed_at); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A loan: the months of its start and of its recall notice (old and new), when what the figures
-- read of it changes (not the daily job moving a loan from scheduled to active to ended).
CREATE OR REPLACE FUNCTION outcomes_stale_loan() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.starts_at IS NOT DISTINCT FROM OLD.starts_at AND NEW.ends_at IS NOT DISTINCT FROM OLD.ends_at
       AND NEW.recall_notice_at IS NOT DISTINCT FROM OLD.recall_notice_at AND NEW.gpu_count = OLD.gpu_count
       AND NEW.end_reason IS NOT DISTINCT FROM OLD.end_reason AND (NEW.state = 'offered') = (OLD.state = 'offered')
       AND NEW.organisation_id = OLD.organisation_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM outcomes_mark_moment(OLD.starts_at);
        PERFORM outcomes_mark_moment(OLD.recall_notice_at);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM outcomes_mark_moment(NEW.starts_at);
        PERFORM outcomes_mark_moment(NEW.recall_notice_at);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- A reclamation case: the month it was decided in (old and new).
CREATE OR REPLACE FUNCTION outcomes_stale_case() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM outcomes_mark_moment(OLD.decided_at); END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN PERFORM outcomes_mark_moment(NEW.decided_at); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION outcomes_stale_all() RETURNS trigger AS $$
BEGIN
    PERFORM outcomes_mark_all();
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

TRIGGERS = [
    ("gpus_allocationgpu", "outcomes_stale_held", "INSERT OR UPDATE OR DELETE"),
    ("monitoring_usagereport", "outcomes_stale_report", "INSERT OR UPDATE OR DELETE"),
    ("metering_usagebatch", "outcomes_stale_batch", "INSERT OR UPDATE OR DELETE"),
    ("gpus_loanrequest", "outcomes_stale_request", "INSERT OR UPDATE OR DELETE"),
    ("gpus_loan", "outcomes_stale_loan", "INSERT OR UPDATE OR DELETE"),
    ("monitoring_reclamationcase", "outcomes_stale_case", "INSERT OR UPDATE OR DELETE"),
    ("gpus_organisation", "outcomes_stale_all",
     "UPDATE WHEN (NEW.kind IS DISTINCT FROM OLD.kind OR NEW.region IS DISTINCT FROM OLD.region)"),
    ("projects_project", "outcomes_stale_all",
     "UPDATE WHEN (NEW.pool_id IS DISTINCT FROM OLD.pool_id OR NEW.actual_start IS DISTINCT FROM OLD.actual_start)"),
    ("gpus_server", "outcomes_stale_all", "UPDATE WHEN (NEW.pool_id IS DISTINCT FROM OLD.pool_id)"),
    ("monitoring_reclamationpolicy", "outcomes_stale_all", "INSERT OR UPDATE"),
]


def _trigger(name: str, table: str, function: str, events: str) -> list[str]:
    """CREATE TRIGGER statements; a WHEN condition (on OLD and NEW) applies to UPDATE only, so events
    with one get a trigger of their own for UPDATE."""
    event, _, when = events.partition(" WHEN ")
    if not when:
        return [f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();"]
    others = [e for e in event.split(" OR ") if e != "UPDATE"]
    made = [f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({when}) "
            f"EXECUTE FUNCTION {function}();"]
    if others:
        made.append(f"CREATE TRIGGER {name} AFTER {' OR '.join(others)} ON {table} FOR EACH ROW "
                    f"EXECUTE FUNCTION {function}();")
    return made


def _create():
    statements = [FUNCTIONS]
    for table, function, events in TRIGGERS:
        statements += _trigger("outcomes_stale", table, function, events)
    return "\n".join(statements)


def _drop():
    statements = [f"DROP TRIGGER IF EXISTS {name} ON {table};" for table, *_rest in TRIGGERS
                  for name in ("outcomes_stale", "outcomes_stale_update")]
    for name in ("outcomes_stale_held", "outcomes_stale_report", "outcomes_stale_batch", "outcomes_stale_request",
                 "outcomes_stale_loan", "outcomes_stale_case", "outcomes_stale_all"):
        statements.append(f"DROP FUNCTION IF EXISTS {name}();")
    statements += ["DROP FUNCTION IF EXISTS outcomes_mark_all();", "DROP FUNCTION IF EXISTS outcomes_mark_moment(timestamptz);",
                   "DROP FUNCTION IF EXISTS outcomes_mark_range(timestamptz, timestamptz);"]
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0001_outcome_month"),
        ("allocation_portal", "0014_policy_measured_use"),
        ("gpus", "0009_provider_prometheus"),
        ("lending", "0003_loan_offers"),
        ("metering", "0001_measured_usage"),
        ("monitoring", "0007_alter_redistributionproposal_loan_request"),
        ("projects", "0005_project_plan_start"),
    ]

    operations = [migrations.RunSQL(_create(), _drop())]
