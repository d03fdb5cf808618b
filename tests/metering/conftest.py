"""What the metering tests share: a provider's servers held by each kind of holder."""

from __future__ import annotations

import datetime as dt

import pytest

from allocation_portal.models import Role
from gpus.models import HolderKind
from gpus.selectors import day_start
from gpus.services import allocation_award
from tests import factories as f


@pytest.fixture
def ledger(db):
    """nb200-001…011 of one provider (012 is not in the inventory): 001–004 held by a started project,
    005–008 by a project not started yet, half of 009 lent, 010 in the MSIT reserve, 011 nobody's."""
    cluster = f.make_cluster(servers=11, code="nb200")
    servers = list(cluster.servers.order_by("hostname"))
    ministry = f.make_ministry()
    started = f.make_project(ministry, started=True, code="P-ON", gpus=32)
    waiting = f.make_project(ministry, code="P-WAIT", gpus=32, planned_start=dt.date(2027, 1, 1))
    f.award(started, servers[0:4])
    f.award(waiting, servers[4:8])
    organisation = f.make_organisation()
    loan = f.make_loan(organisation, gpus=f.server_gpus(servers[8])[:4], start=dt.date(2026, 10, 1),
                       end=dt.date(2026, 11, 1))
    allocation_award(actor=None, holder_kind=HolderKind.RESERVE, gpus=f.server_gpus(servers[9]),
                     starts_at=day_start(dt.date(2026, 4, 1)), ends_at=day_start(dt.date(2027, 4, 1)),
                     reason="reserve")
    operator = f.make_user(Role.PROVIDER, provider=cluster.provider)
    return {"provider": cluster.provider, "started": started, "waiting": waiting, "loan": loan, "operator": operator}


