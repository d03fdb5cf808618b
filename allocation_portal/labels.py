"""How codes the portal stores read to people: audit actions ("loan.renewal_request") and object
types ("lending.loan"), in the reader's language. Each app registers its actions' labels from its
AppConfig.ready(); object types are named by their models' own verbose names."""

from __future__ import annotations

from django.apps import apps
from django.utils.functional import Promise

_actions: dict[str, str | Promise] = {}
# Object types recorded before a model moved to another app.
MOVED = {"gpus.organisation": "lending.organisation", "gpus.loanrequest": "lending.loanrequest",
         "gpus.loan": "lending.loan", "monitoring.reclamationpolicy": "allocation_portal.policy",
         "monitoring.notification": "allocation_portal.notification",
         "monitoring.redistribution": "monitoring.redistributionproposal"}


def register_actions(labels: dict[str, str | Promise]) -> None:
    _actions.update(labels)


def action_label(code: str) -> str:
    label = _actions.get(code)
    return str(label) if label is not None else code


def object_type_label(object_type: str) -> str:
    label = MOVED.get(object_type, object_type)
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)
