"""Internal: the simulator's subprocess, on a throw-away database (outcomes.simulation_runner starts
it with DATABASE_URL pointing there). `prepare` loads a template; `run` replays the months and prints
PROGRESS lines and one RESULT line of JSON."""

import datetime as dt
import json
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from outcomes import simulation
from outcomes.simulation_runner import PREFIX


class Command(BaseCommand):
    help = "Internal: run by simulate_programme inside a throw-away simulation database (portal_sim_*). Do not run by hand."

    def add_arguments(self, parser):
        parser.add_argument("step", choices=["prepare", "run"])
        parser.add_argument("--from", dest="first", default="2026-04")
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--behaviour-json", default="{}")
        parser.add_argument("--policy-json", default="{}")

    def handle(self, *args, **options):
        if not connection.settings_dict["NAME"].startswith(PREFIX):
            raise CommandError("This runs only inside a simulation database (portal_sim_*).")
        if options["step"] == "prepare":
            call_command("load_programme_2026", stdout=self.stderr)
            simulation.programme_before_starts()
            return
        try:
            result = simulation.simulate(
                first=dt.date.fromisoformat(options["first"] + "-01"), month_count=options["months"], seed=options["seed"],
                behaviour=json.loads(options["behaviour_json"]), policy=json.loads(options["policy_json"]),
                progress=lambda percent: print(f"PROGRESS {percent}", flush=True))
        except simulation.SimulationInvalid as exc:
            raise CommandError(str(exc)) from exc
        sys.stdout.write("RESULT " + json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
