"""manage.py simulate_programme: replay a programme year on a throw-away copy of the programme and
print the outcome figures (outcomes.simulation, outcomes.simulation_runner)."""

import json
import unicodedata
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from allocation_portal import months
from outcomes import simulation, simulation_runner

FILE_MAX_BYTES = 64 * 1024
SEED_MAX = 2**31 - 1


def _defaults_help() -> str:
    return "; ".join(f"{name}={json.dumps(value)}" for name, value in simulation.BEHAVIOUR_DEFAULTS.items())


def read_json(path: str, what: str) -> dict:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"--{what}: no such file: {path}")
    if file.stat().st_size > FILE_MAX_BYTES:
        raise CommandError(f"--{what}: the file is larger than {FILE_MAX_BYTES // 1024} KB.")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"--{what}: not JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise CommandError(f"--{what}: the file holds one JSON object of fields by name.")
    return data


class Command(BaseCommand):
    help = (
        "Replay a programme year on a throw-away copy of the programme (its own database, portal_sim_*; never "
        "the live data) with the portal's own services, and print the outcome figures per month and cumulative. "
        "--policy FILE: JSON of policy fields by name (the others stay as the policy in force), checked as the "
        "policy page checks them. --behaviour FILE: JSON of behaviour fields; defaults: " + _defaults_help() + "."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", default="2026-04", help="first month, YYYY-MM (default 2026-04)")
        parser.add_argument("--months", type=int, default=12, help=f"months to replay, 1-{simulation.MOST_MONTHS} (default 12)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed and files, same figures)")
        parser.add_argument("--policy", help="JSON file of policy fields")
        parser.add_argument("--behaviour", help="JSON file of behaviour fields")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--keep", action="store_true", help="keep the simulation's database (its name is printed)")
        parser.add_argument("--language", choices=["ko", "en"], default="ko", help="the table's language (default ko)")

    def handle(self, *args, **options):
        first = months.parse(options["first"] or "")
        if first is None:
            raise CommandError("--from: give a month as YYYY-MM.")
        if not (1 <= options["months"] <= simulation.MOST_MONTHS):
            raise CommandError(f"--months: from 1 to {simulation.MOST_MONTHS}.")
        if not (0 <= options["seed"] <= SEED_MAX):
            raise CommandError(f"--seed: from 0 to {SEED_MAX}.")
        with translation.override(options["language"]):
            try:
                behaviour = simulation.behaviour_from(read_json(options["behaviour"], "behaviour") if options["behaviour"] else None)
                policy = simulation.policy_from(read_json(options["policy"], "policy") if options["policy"] else None)
            except simulation.SimulationInvalid as exc:
                raise CommandError(str(exc)) from exc
            last_shown = [-10]

            def progress(percent: int) -> None:
                if percent >= last_shown[0] + 10 or percent == 100:
                    last_shown[0] = percent
                    self.stderr.write(f"{percent}%")

            try:
                result = simulation_runner.run(first=months.label(first), months=options["months"], seed=options["seed"],
                                               behaviour=behaviour, policy=simulation.policy_json(policy),
                                               keep=options["keep"], on_progress=progress)
            except simulation_runner.SimulationFailed as exc:
                raise CommandError(str(exc)) from exc
            if options["json"]:
                self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1))
                return
            self.stdout.write(render_table(result))


def render_table(result: dict) -> str:
    header, rows = simulation.summary_table(result["figures"])
    lines = []
    # One figure per line block: a month per column would not fit a terminal, so the table is turned.
    turned = [[header[i]] + [r[i] for r in rows] for i in range(len(header))]
    widths = [max(_width(row[c]) for row in turned) for c in range(len(turned[0]))]
    for row in turned:
        lines.append("  ".join(_pad(cell, widths[c], left=c == 0) for c, cell in enumerate(row)))
    if result.get("kept"):
        lines.append(f"database: {result['database']}")
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives the text (Hangul is two wide)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, left: bool) -> str:
    gap = " " * (width - _width(text))
    return text + gap if left else gap + text
