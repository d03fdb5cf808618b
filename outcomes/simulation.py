"""The what-if simulator's core: a programme year replayed day by day with the portal's own
services, on whatever database the process is connected to (the command runs it on a throw-away
copy: outcomes.simulation_runner). Nothing here models a rule: officials record starts and submit
reports, applicants ask for GPUs and answer offers, MSIT admins score, approve, reject and decide
cases, and the beat jobs run at their scheduled times, each by calling the function the page or the
task calls. The clock travels (time-machine) to each moment before anything happens at it.

The behaviour (how people act) and the policy (the rules' numbers) are JSON, validated here with
errors that name the field; the figures at the end are outcomes.figures.programme_outcomes."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import heapq
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import PortalError
from allocation_portal.formatting import EMPTY, format_number, format_percent
from allocation_portal.messages import msg
from allocation_portal.models import Compliance, Role, User
from gpus.availability import day_start, programme_pool
from gpus.models import Allocation, AllocationGpu, HolderKind, Layer
from gpus.selectors import held_by_month
from lending import services as lending
from lending.models import Loan, LoanRequest, LoanState, OrganisationKind, Region, RequestState
from lending.registration import business_number_valid
from lending.selectors import propose, request_window
from lending.services.requests import max_end
from monitoring import reclamation, redistribution
from monitoring.models import CaseKind, CaseState, ReclamationCase, ReportState, ResponseKind, UsageReport
from monitoring.services import report_accept, report_reminders_send, report_save
from projects.models import Project, ProjectStatus, UsagePlan
from projects.services import project_record_start, project_set_expected_start, usage_plan_rebase

from .figures import programme_outcomes

MOST_MONTHS = 36
SIM_PASSWORD = "sim-only-Passw0rd!-not-a-login"  # noqa: S105 (throw-away databases only)
REQUEST_SIZES = ("1", "2", "3", "4", "8", "16", "24", "32")

# What people do, with the bounds each number must keep. A range is [low, high] (inclusive).
BEHAVIOUR_DEFAULTS: dict = {
    "start_delay_days": [0, 60],       # a project starts this many days after its planned start
    "never_start_share": 0.1,          # projects that do not start within the simulated months
    "use_of_plan": [0.7, 1.0],         # reported use, as a share of the month's plan
    "under_use_share": 0.2,            # projects that use far less than planned
    "under_use_of_plan": [0.1, 0.5],   # what those projects use, as a share of plan
    "late_report_share": 0.1,          # reports sent 1-10 days after the due day
    "missing_report_share": 0.05,      # months never reported
    "case_response_share": 0.5,        # cases the ministry responds to within the window
    "case_approve_share": 0.8,         # cases MSIT approves (with the proposed servers); the rest rejected
    "requests_per_month": 25,          # short-term requests submitted per month (on average)
    "request_gpus": {"1": 2, "2": 3, "4": 3, "8": 2, "16": 1},  # relative weights of request sizes
    "request_days": [14, 90],          # days asked for (cut at the policy's longest loan)
    "request_lead_days": [1, 14],      # days from submission to the first day asked for
    "organisations": 60,               # applicant organisations (each has one request open at a time)
    "organisation_types": {"industry": 5, "academia": 3, "research": 2},  # relative weights
    "capital_region_share": 0.5,       # organisations in the capital region
    "decision_days": [1, 5],           # days MSIT takes to decide a request
    "reject_share": 0.05,              # requests MSIT rejects on their merits
    "give_up_days": 14,                # a request without capacity this many days after its first day is rejected
    "offer_accept_share": 0.9,         # offers accepted (the rest declined)
    "offer_answer_hours": [2, 30],     # hours an applicant takes to answer an offer
}
RANGES = {  # name -> (low, high, whole numbers?)
    "start_delay_days": (0, 365, True), "use_of_plan": (0, 1, False), "under_use_of_plan": (0, 1, False),
    "request_days": (1, 366, True), "request_lead_days": (0, 90, True), "decision_days": (0, 60, True),
    "offer_answer_hours": (0, 720, True),
}
SHARES = ("never_start_share", "under_use_share", "late_report_share", "missing_report_share", "case_response_share",
          "case_approve_share", "capital_region_share", "reject_share", "offer_accept_share")
COUNTS = {"requests_per_month": (0, 500), "organisations": (1, 500), "give_up_days": (0, 365)}
WEIGHTS = {"request_gpus": REQUEST_SIZES, "organisation_types": tuple(OrganisationKind.values)}


class SimulationInvalid(ValueError):
    """A behaviour or policy the simulator refuses; `field` names what is wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def behaviour_from(data: dict | None) -> dict:
    """The defaults with `data`'s fields over them, every number inside its bounds."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SimulationInvalid("behaviour", _("The behaviour is a JSON object of named fields."))
    unknown = sorted(set(data) - set(BEHAVIOUR_DEFAULTS))
    if unknown:
        raise SimulationInvalid(unknown[0], _("Unknown field; the fields are: %(names)s.") % {"names": ", ".join(BEHAVIOUR_DEFAULTS)})
    out = {**BEHAVIOUR_DEFAULTS, **data}
    for name, (low, high, whole) in RANGES.items():
        value = out[name]
        if not (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
                and (not whole or all(float(v).is_integer() for v in value)) and low <= value[0] <= value[1] <= high):
            text = (_("Give [low, high], whole numbers with %(low)s ≤ low ≤ high ≤ %(high)s.") if whole
                    else _("Give [low, high] with %(low)s ≤ low ≤ high ≤ %(high)s."))
            raise SimulationInvalid(name, text % {"low": low, "high": high})
        out[name] = [int(v) for v in value] if whole else [float(v) for v in value]
    for name in SHARES:
        if not (_number(out[name]) and 0 <= out[name] <= 1):
            raise SimulationInvalid(name, _("Give a share between 0 and 1."))
        out[name] = float(out[name])
    for name, (low, high) in COUNTS.items():
        value = out[name]
        if not (_number(value) and float(value).is_integer() and low <= value <= high):
            raise SimulationInvalid(name, _("A whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
        out[name] = int(value)
    for name, keys in WEIGHTS.items():
        value = out[name]
        if not (isinstance(value, dict) and value and set(value) <= set(keys)
                and all(_number(w) and 0 <= w <= 100 for w in value.values()) and sum(value.values()) > 0):
            raise SimulationInvalid(name, _("Give relative weights from 0 to 100 (not all 0) for some of: %(keys)s.")
                                    % {"keys": ", ".join(keys)})
        out[name] = {k: float(value[k]) for k in keys if k in value}
    return out


def policy_from(data: dict | None, base=None) -> dict:
    """The policy in force (or `base`) with `data`'s fields over it, checked by the policy's own
    validation (the one the policy page uses). Returns every field's value."""
    base = base or programme_policy.current()
    values = {name: getattr(base, name) for name in programme_policy.FIELDS}
    if data is None:
        return values
    if not isinstance(data, dict):
        raise SimulationInvalid("policy", _("The policy is a JSON object of policy fields by name."))
    unknown = sorted(set(data) - set(programme_policy.FIELDS))
    if unknown:
        raise SimulationInvalid(unknown[0], _("Unknown policy field; the fields are: %(names)s.") % {
            "names": ", ".join(programme_policy.FIELDS)})
    for name, value in data.items():
        if name in programme_policy.SHARES:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise SimulationInvalid(name, _("Give a share between 0 and 1 (for example 0.3 for 30%)."))
            value = str(value)
        values[name] = value
    errors = programme_policy.values_errors(values)
    if errors:
        name = sorted(errors)[0]
        raise SimulationInvalid(name, " ".join(str(m) for m in errors[name]))
    return {name: Decimal(str(values[name])) if name in programme_policy.SHARES else values[name]
            for name in programme_policy.FIELDS}


def policy_json(values: dict) -> dict:
    return {name: str(v) if isinstance(v, Decimal) else v for name, v in values.items()}


# --- The world before the programme starts -------------------------------------------------------

def programme_before_starts() -> int:
    """The loaded programme as it stood on the announcement day: every project awarded, none started
    (the loader records today's starts; a simulated year records its own). Usage plans move back to
    the planned starts. Only for a throw-away database (the template of the simulations)."""
    pool = programme_pool()
    if pool is None:
        return 0
    with transaction.atomic():
        projects = list(Project.objects.select_for_update().filter(pool=pool).order_by("code"))
        Project.objects.filter(pool=pool).update(actual_start=None, expected_start=None, status=ProjectStatus.PLANNED)
        AllocationGpu.objects.filter(allocation__project__pool=pool, allocation__holder_kind=HolderKind.PROJECT,
                                     layer=Layer.AWARD).update(in_use_from=None)
        for project in projects:
            project.refresh_from_db()
            usage_plan_rebase(actor=None, project=project, start=project.planned_start,
                              reason=msg(gettext_noop("Simulation: the plan counts from the planned start.")))
    return len(projects)


# --- The simulated year --------------------------------------------------------------------------

@dataclass
class Result:
    figures: dict
    stats: dict
    policy: dict
    behaviour: dict
    seed: int
    first: str
    months: int

    def to_dict(self) -> dict:
        return {"seed": self.seed, "from": self.first, "months": self.months, "policy": self.policy,
                "behaviour": self.behaviour, "stats": self.stats, "figures": self.figures}


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    name: str = field(compare=False)
    action: Callable[[], Any] = field(compare=False)


def _kst(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Simulation:
    """One simulated run. `progress(percent)` is called as the days pass."""

    def __init__(self, *, first: dt.date, month_count: int, seed: int, behaviour: dict, policy: dict, progress=None):
        self.first = months.first_day(first)
        self.last = months.add_months(self.first, month_count - 1)
        self.month_count = month_count
        self.seed = seed
        self.behaviour = behaviour
        self.policy = policy
        self.progress = progress or (lambda percent: None)
        self.rng = random.Random(seed)
        self.events: list[_Event] = []
        self.seq = 0
        self.stats: Counter = Counter()
        self.refusals: Counter = Counter()  # what the portal said, for the reader of the stats
        self.decisions: dict[int, bool] = {}  # case -> MSIT approves it (else rejects)
        self.requests: dict[int, dict] = {}  # request -> when and how MSIT decides it
        self.answered: set[int] = set()  # offers whose answer is planned
        self.begin = day_start(self.first)
        # The figures are of the months as they closed: read at the first moment after the last.
        self.end = months.start_of(months.next_month(self.last))

    # The event queue: everything happens at a moment, in order; ties in the order scheduled.
    def at(self, moment: dt.datetime, name: str, action) -> None:
        if self.begin <= moment < self.end:
            self.seq += 1
            heapq.heappush(self.events, _Event(moment, self.seq, name, action))

    def attempt(self, name: str, action: Callable[[], Any]) -> Any:
        """Do what a person or job does; a refusal by the portal (its one error type) is counted,
        as it would be shown to them, and the day goes on."""
        try:
            with transaction.atomic():
                result = action()
        except PortalError as exc:
            self.stats[f"refused:{name}"] += 1
            self.refusals[f"{name}: {exc.message} {sorted(exc.fields)}"] += 1
            return None
        self.stats[name] += 1
        return result

    def run(self) -> Result:
        with time_machine.travel(self.begin, tick=False):
            self._people()
            programme_policy.policy_update(actor=self.admin, values=self.policy, reason="Simulation policy (what-if).")
            self._plan_starts()
        self._schedule_beat()
        total = (self.end - self.begin).total_seconds()
        last_percent = -1
        while self.events:
            event = heapq.heappop(self.events)
            with time_machine.travel(event.at, tick=False):
                event.action()
            percent = int(99 * (event.at - self.begin).total_seconds() / total)
            if percent != last_percent:
                self.progress(percent)
                last_percent = percent
        with time_machine.travel(self.end, tick=False):
            figures = programme_outcomes(self.first, self.last, now=self.end).to_dict()
        self.progress(100)
        return Result(figures=figures, stats=dict(sorted(self.stats.items())), policy=policy_json(self.policy),
                      behaviour=self.behaviour, seed=self.seed, first=months.label(self.first), months=self.month_count)

    # --- the people ---
    def _people(self) -> None:
        self.pool = programme_pool()
        if self.pool is None:
            raise SimulationInvalid("world", _("The database holds no programme to simulate."))
        self.admin = User.objects.create(username=f"sim-admin-{self.seed}", role=Role.ADMIN, display_name="Simulation MSIT")
        self.officials: dict[int, User] = {}
        ministry_ids = sorted(set(Project.objects.filter(pool=self.pool).values_list("ministry_id", flat=True)))
        for ministry_id in ministry_ids:
            self.officials[ministry_id] = User.objects.create(
                username=f"sim-official-{ministry_id}", role=Role.OFFICIAL, ministry_id=ministry_id, display_name="Simulation")
        b = self.behaviour
        kinds, kind_weights = list(b["organisation_types"]), list(b["organisation_types"].values())
        self.applicants: list[User] = []
        for index in range(b["organisations"]):
            kind = self.rng.choices(kinds, kind_weights)[0]
            region = Region.CAPITAL if self.rng.random() < b["capital_region_share"] else Region.NON_CAPITAL
            user = lending.organisation_signup(
                name=f"모의 기관 {index + 1:03d} (simulated)", kind=kind, region=region,
                registration_number=_business_number(self.seed, index), username=f"sim-applicant-{index + 1:03d}",
                email=f"sim{index + 1}@sim.gpu-portal.example.kr", password=SIM_PASSWORD, privacy_consent=True,
                confirm_duplicate_name=True)
            self.applicants.append(user)

    def official_of(self, project: Project) -> User:
        return self.officials[project.ministry_id]

    # --- starts ---
    def _plan_starts(self) -> None:
        b = self.behaviour
        first_award = dict(Allocation.objects.filter(project__pool=self.pool, holder_kind=HolderKind.PROJECT)
                           .values("project_id").annotate(first=Min("starts_at")).values_list("project_id", "first")
                           .order_by())
        for project in Project.objects.filter(pool=self.pool, actual_start__isnull=True).order_by("code"):
            delay = self.rng.randint(*b["start_delay_days"])
            never = self.rng.random() < b["never_start_share"]
            award_day = timezone.localtime(first_award[project.pk]).date() if project.pk in first_award else None
            if award_day is None:
                continue
            start = max(project.planned_start + dt.timedelta(days=delay), award_day, self.first)
            if never or start > min(project.end_date, self.last_day):
                expected = max(self.last_day + dt.timedelta(days=30), project.planned_start)
                if expected <= project.end_date and project.planned_start >= self.first:
                    self.at(_kst(max(project.planned_start, self.first) + dt.timedelta(days=1), 11), "expected_start",
                            self._expected(project.pk, expected))
                continue
            if start > project.planned_start:
                self.at(_kst(max(project.planned_start, self.first) + dt.timedelta(days=1), 11), "expected_start",
                        self._expected(project.pk, start))
            self.at(_kst(start, 11), "start", self._start(project.pk, start))

    @property
    def last_day(self) -> dt.date:
        return months.next_month(self.last) - dt.timedelta(days=1)

    def _expected(self, project_id: int, expected: dt.date):
        def act():
            project = Project.objects.get(pk=project_id)
            if project.actual_start is None and expected >= timezone.localdate():
                self.attempt("expected_start", lambda: project_set_expected_start(
                    actor=self.official_of(project), project=project, expected_start=expected,
                    reason="착수 일정 변경 (모의 실행) / The start moves (simulation)."))
        return act

    def _start(self, project_id: int, day: dt.date):
        def act():
            project = Project.objects.get(pk=project_id)
            if self.attempt("start", lambda: project_record_start(actor=self.official_of(project), project=project,
                                                                   started_on=day)):
                self._plan_reports(project_id)
        return act

    # --- monthly reports ---
    def _plan_reports(self, project_id: int) -> None:
        b = self.behaviour
        project = Project.objects.get(pk=project_id)
        assert project.actual_start is not None  # planned once its start is recorded
        under = self.rng.random() < b["under_use_share"]
        due_day = self.policy["report_due_day"]
        for month in months.months_between(months.first_day(project.actual_start), self.last):
            level = self.rng.uniform(*(b["under_use_of_plan"] if under else b["use_of_plan"]))
            roll = self.rng.random()
            if roll < b["missing_report_share"]:
                continue
            due = months.next_month(month).replace(day=due_day)
            day = due + dt.timedelta(days=self.rng.randint(1, 10)) if roll < b["missing_report_share"] + b["late_report_share"] \
                else due - dt.timedelta(days=self.rng.randint(0, 3))
            self.at(_kst(day, 10, self.rng.randint(0, 59)), "report", self._report(project_id, month, level))

    def _report(self, project_id: int, month: dt.date, level: float):
        def act():
            project = Project.objects.get(pk=project_id)
            allocated, gpus = held_by_month([project_id], month, month).get((project_id, month), (Decimal(0), 0))
            if not allocated or not gpus:
                return
            plan = UsagePlan.objects.filter(project=project, month=month).values_list("planned_gpu_hours", flat=True).first()
            share = Decimal(str(round(level, 3)))
            used = min(Decimal(plan if plan is not None else allocated) * share, allocated).quantize(Decimal("1"))
            values = {"gpu_hours_used": used, "peak_gpus_busy": max(1, min(gpus, math.ceil(gpus * min(1.0, level + 0.1)))),
                      "within_purpose": True, "ai_basic_act": Compliance.YES,
                      "personal_information": Compliance.NOT_APPLICABLE, "training_data_copyright": Compliance.YES,
                      "notes": "모의 실행 (simulation)."}
            report = self.attempt("report", lambda: report_save(actor=self.official_of(project), project=project,
                                                                 month=month, values=values, submit=True))
            if report is not None:
                self.at(_kst(timezone.localdate() + dt.timedelta(days=1), 14), "report_accept",
                        lambda: self._accept(report.pk))
        return act

    def _accept(self, report_id: int) -> None:
        report = UsageReport.objects.get(pk=report_id)
        if report.state == ReportState.SUBMITTED:
            self.attempt("report_accept", lambda: report_accept(actor=self.admin, report=report))

    # --- the beat and the desks, every day ---
    def _schedule_beat(self) -> None:
        day = self.first
        while day <= self.last_day:
            # Beat runs these every 15 and 5 minutes; loans begin and end at midnight (a recall at
            # its notice's end), and the ledger, not the loan's state, holds the hours, so a day's
            # two ticks and four lapse runs count the same GPU-hours at a fraction of the cost.
            for hour in (0, 12):
                self.at(_kst(day, hour, 5), "loans_tick", lending.loans_tick)
            for hour in (0, 6, 12, 18):
                self.at(_kst(day, hour, 2), "offers_lapse", lending.offers_lapse)
            self.at(_kst(day, 8, 30), "delayed_flag", reclamation.delayed_projects_flag)
            self.at(_kst(day, 9), "reminders", report_reminders_send)
            if day.day == 6:
                month = months.add_months(months.first_day(day), -1)
                self.at(_kst(day, 9, 1), "monthly_check", self._check(month))
            self.at(_kst(day, 10), "redistribution", self._redistribute)
            self.at(_kst(day, 14), "admin_desk", self._desk)
            self._schedule_requests(day)
            day += dt.timedelta(days=1)

    def _check(self, month: dt.date):
        def act():
            if month < self.first:
                return
            self.attempt("monthly_check", lambda: reclamation.monthly_check_run(month=month))
            for case in ReclamationCase.objects.filter(month=month, kind=CaseKind.UNDER_USE, state=CaseState.OPEN).order_by("pk"):
                if self.rng.random() < self.behaviour["case_response_share"]:
                    days = self.rng.randint(0, max((case.response_due - timezone.localdate()).days, 0))
                    self.at(_kst(timezone.localdate() + dt.timedelta(days=days), 15), "case_respond", self._respond(case.pk))
                approve = self.rng.random() < self.behaviour["case_approve_share"]
                self.decisions[case.pk] = approve
        return act

    def _respond(self, case_id: int):
        def act():
            case = ReclamationCase.objects.select_related("project").get(pk=case_id)
            self.attempt("case_respond", lambda: reclamation.case_respond(
                actor=self.official_of(case.project), case=case, kind=ResponseKind.EXPLANATION,
                text="일정 지연으로 사용이 계획보다 적었습니다 (모의 실행) / Use lagged the plan (simulation)."))
        return act

    def _redistribute(self) -> None:
        """The daily proposal job, then MSIT approves the proposals it has come to: a project's
        request for more at once, a short-term request on (or after) its decision day, unless MSIT
        means to reject that request on its merits."""
        self.attempt("redistribution_propose", lambda: redistribution.redistribution_propose())
        today = timezone.localdate()

        def due(proposal) -> bool:
            plan = self.requests.get(proposal.loan_request_id) if proposal.loan_request_id else None
            return proposal.loan_request_id is None or (plan is not None and not plan["reject"] and plan["decide_on"] <= today)

        proposals = [p for p in redistribution.open_proposals() if due(p)]
        if proposals:
            for _proposal, error in redistribution.proposals_approve_all(actor=self.admin, proposals=proposals):
                self.stats["refused:proposal_approve" if error else "proposal_approve"] += 1
            self._answer_new_offers()

    def _desk(self) -> None:
        """MSIT's desk at 14:00: decide the cases whose window has closed and the requests due for a decision."""
        today = timezone.localdate()
        for case in ReclamationCase.objects.filter(kind=CaseKind.UNDER_USE, state__in=[CaseState.OPEN, CaseState.RESPONDED]
                                                   ).select_related("project").order_by("pk"):
            if not reclamation.decision_allowed(case, today) or case.state == CaseState.OPEN and today <= case.response_due:
                continue
            self.attempt("case_decide", functools.partial(self._decide_case, case, self.decisions.get(case.pk, True)))
        for request in LoanRequest.objects.filter(pool=self.pool, state=RequestState.SUBMITTED).order_by("submitted_at", "pk"):
            self._decide(request, today)

    def _decide_case(self, case: ReclamationCase, approve: bool) -> ReclamationCase:
        return reclamation.case_decide(
            actor=self.admin, case=case, decision=CaseState.APPROVED if approve else CaseState.REJECTED,
            servers=case.proposed_servers if approve else None,
            reason="계획 대비 실적 미흡 (모의 실행) / Under plan (simulation)." if approve
            else "소명을 받아들입니다 (모의 실행) / Explanation accepted (simulation).")

    def _decide(self, request: LoanRequest, today: dt.date) -> None:
        plan = self.requests.get(request.pk)
        if plan is None or today < plan["decide_on"]:
            return
        if plan["reject"]:
            self.attempt("request_reject", lambda: lending.request_reject(
                actor=self.admin, request=request, reason="사업 취지와 맞지 않습니다 (모의 실행) / Out of scope (simulation)."))
            return
        if request.score is None:
            self.attempt("request_score", lambda: lending.request_score(actor=self.admin, request=request, score=plan["score"]))
            request.refresh_from_db()
        window = request_window(request)
        if window[1] > window[0]:
            gpus = propose(request.gpu_model, request.gpu_count, *window, pool=self.pool).gpu_ids
            if len(gpus) == request.gpu_count:
                loan = self.attempt("request_approve", lambda: lending.request_approve(
                    actor=self.admin, request=request, gpu_ids=gpus))
                if loan is not None:
                    self._answer_new_offers()
                return
        if today > request.starts_on + dt.timedelta(days=self.behaviour["give_up_days"]) or window[1] <= window[0]:
            self.attempt("request_reject_capacity", lambda: lending.request_reject(
                actor=self.admin, request=request,
                reason="빌려드릴 GPU가 없습니다 (모의 실행) / No GPUs to lend for that period (simulation)."))

    def _answer_new_offers(self) -> None:
        """Every offer made (from the queue or a redistribution proposal) gets its applicant's answer."""
        for loan in Loan.objects.filter(request__pool=self.pool, state=LoanState.OFFERED).exclude(
                pk__in=self.answered).order_by("pk"):
            self.answered.add(loan.pk)
            self._plan_answer(loan)

    def _plan_answer(self, loan: Loan) -> None:
        b = self.behaviour
        accept = self.rng.random() < b["offer_accept_share"]
        moment = timezone.now() + dt.timedelta(hours=self.rng.randint(*b["offer_answer_hours"]), minutes=self.rng.randint(0, 59))

        def act():
            found = Loan.objects.select_related("request__submitted_by").get(pk=loan.pk)
            if found.state != LoanState.OFFERED:
                return
            person = found.request.submitted_by
            if accept:
                self.attempt("offer_accept", lambda: lending.offer_accept(actor=person, loan=found))
            else:
                self.attempt("offer_decline", lambda: lending.offer_decline(
                    actor=person, loan=found, reason="일정 변경 (모의 실행) / Plans changed (simulation)."))
        self.at(moment, "offer_answer", act)

    def _schedule_requests(self, day: dt.date) -> None:
        b = self.behaviour
        for _n in range(_poisson(self.rng, b["requests_per_month"] * 12 / 365)):
            moment = _kst(day, self.rng.randint(9, 17), self.rng.randint(0, 59))
            applicant = self.rng.choice(self.applicants)
            size = int(self.rng.choices(list(b["request_gpus"]), list(b["request_gpus"].values()))[0])
            lead, length = self.rng.randint(*b["request_lead_days"]), self.rng.randint(*b["request_days"])
            plan = {"decide_after": self.rng.randint(*b["decision_days"]), "reject": self.rng.random() < b["reject_share"],
                    "score": self.rng.randint(50, 95)}
            self.at(moment, "request_submit", self._submit(applicant, size, lead, length, plan))

    def _submit(self, applicant: User, size: int, lead: int, length: int, plan: dict):
        def act():
            starts_on = timezone.localdate() + dt.timedelta(days=lead)
            ends_on = min(starts_on + dt.timedelta(days=length), max_end(starts_on))
            values = {"gpu_model": "B200", "gpu_count": size, "starts_on": starts_on, "ends_on": ends_on,
                      "purpose": "모의 실행의 단기 수요 (simulation)", "expected_results": "논문·공개 모델 (simulation)",
                      "personal_information": "na", "training_data_copyright": "yes", "ai_basic_act": "yes",
                      "accepts_recall_terms": True}
            request = self.attempt("request_submit", lambda: lending.request_submit(actor=applicant, values=values))
            if request is not None:
                self.requests[request.pk] = {**plan, "decide_on": timezone.localdate() + dt.timedelta(days=plan["decide_after"])}
        return act


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth), from the seeded generator."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _business_number(seed: int, index: int) -> str:
    """A 사업자등록번호 whose check digit the sign-up accepts, different for each organisation."""
    digest = int(hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:12], 16)
    body = f"{(100 + index) % 1000:03d}{digest % 1000000:06d}"
    digits = next(body + str(d) for d in range(10) if business_number_valid(body + str(d)))
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def simulate(*, first: dt.date, month_count: int, seed: int, behaviour: dict | None = None, policy: dict | None = None,
             progress=None) -> Result:
    """Replay `month_count` months from `first` on the connected database (a throw-away one: this
    writes). `behaviour` and `policy` are checked first (SimulationInvalid names the field)."""
    if not (1 <= month_count <= MOST_MONTHS):
        raise SimulationInvalid("months", _("From 1 to %(n)s months.") % {"n": MOST_MONTHS})
    checked_behaviour = behaviour_from(behaviour)
    checked_policy = policy_from(policy)
    return Simulation(first=first, month_count=month_count, seed=seed, behaviour=checked_behaviour,
                      policy=checked_policy, progress=progress).run()


# --- The figures a person reads: the command's table and the page's comparison -------------------

# (key, label, unit, path in a Period's to_dict()); units: gpu_hours, share, days, count.
SUMMARY = [
    ("awarded", gettext_lazy("Awarded GPU-hours"), "gpu_hours", ("gpu_hours", "awarded")),
    ("held_started", gettext_lazy("Held by started projects"), "gpu_hours", ("gpu_hours", "held_started")),
    ("idle", gettext_lazy("Idle before start"), "gpu_hours", ("gpu_hours", "idle")),
    ("reserve", gettext_lazy("In the MSIT reserve"), "gpu_hours", ("gpu_hours", "reserve")),
    ("used_reported", gettext_lazy("Used by owners (reported)"), "gpu_hours", ("used_reported",)),
    ("lent", gettext_lazy("Lent out of idle and reserve"), "gpu_hours", ("gpu_hours", "lent")),
    ("used_or_lent_share", gettext_lazy("Used or lent share"), "share", ("used_or_lent_share",)),
    ("idle_recovered_share", gettext_lazy("Idle recovered share"), "share", ("idle_recovered_share",)),
    ("decision_median", gettext_lazy("Submission to decision, median (days)"), "days",
     ("lending_speed", "submission_to_decision", "median_days")),
    ("wait_median", gettext_lazy("Idle GPU to loan start, median (days)"), "days",
     ("lending_speed", "idle_to_loan_start", "median_days")),
    ("loans_started", gettext_lazy("Loans started"), "count", ("loans_started",)),
    ("recalls", gettext_lazy("Recalls"), "count", ("recalls", "count")),
    ("servers_reclaimed", gettext_lazy("Servers reclaimed"), "count", ("reclaimed", "servers")),
    ("top_share", gettext_lazy("Top five organisations' share"), "share", ("top_organisations_share",)),
]


def _dig(data: dict, path: tuple) -> Any:
    value: Any = data
    for key in path:
        if value is None:
            return None
        value = value.get(key)
    return value


def formatted(value, unit: str) -> str:
    if unit == "share":
        return format_percent(value)
    return format_number(value, 1 if unit in ("gpu_hours", "days") else 0)


def summary_values(period: dict) -> dict[str, object]:
    """A Period's to_dict() reduced to the SUMMARY's figures (the raw values, as the JSON has them)."""
    return {key: _dig(period, path) for key, _label, _unit, path in SUMMARY}


def summary_table(figures: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per month and one for the whole range, the SUMMARY's figures
    formatted the portal's one way, headed in the active language."""
    header = [str(_("Month"))] + [str(label) for _key, label, _unit, _path in SUMMARY]
    rows = []
    for period in [*figures["months"], {**figures["cumulative"], "month": str(_("All months"))}]:
        values = summary_values(period)
        rows.append([period["month"]] + [formatted(values[key], unit) for key, _label, unit, _path in SUMMARY])
    return header, rows


def difference(a, b, unit: str) -> str:
    """B minus A, formatted (shares in percentage points); '–' when either is missing."""
    if a is None or b is None:
        return EMPTY
    delta = Decimal(str(b)) - Decimal(str(a))
    if unit == "share":
        return f"{'+' if delta > 0 else ''}{format_number(delta * 100, 1)}%p"
    return f"{'+' if delta > 0 else ''}{formatted(delta, unit)}"
