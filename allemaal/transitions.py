"""One way to move a record from one status to the next.

Every model with a status keeps its table beside it, as `transitions` on the model class:

    class Donation(models.Model):
        class Status(models.TextChoices): ...
        transitions = TransitionTable(
            {Status.PLEDGED: {Status.SCHEDULED, ...}, ..., Status.CANCELLED: set()},
            refused=_("Donatie %(ref)s kan niet van '%(from)s' naar '%(to)s'."),
            history="DonationEvent",
        )

and its services move it with `transition()` (one row) or `transition_many()` (rows of one
model), which do the same five things each time:

1. lock the row with `select_for_update` inside `transaction.atomic` (`locked=True` when the
   service locked it already because it had its own rules to check on the locked row);
2. return early on a no-op; refuse a move the table does not allow with a `DomainError` whose
   message names the record and both states (a terminal state, with no moves, is never left);
3. save with `update_fields`: the state, the table's timestamp field if any, and the fields the
   caller changed on the row;
4. write the history row (who, when, from, to, note) in the table's history model, a
   `StatusEvent` (or a model with the same fields, named after the state field);
5. register the caller's side effects with `transaction.on_commit`.

E-mails are not side effects in that sense: they go through the outbox
(`notify_organisation`), written in the same transaction, and sent after commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone


@dataclasses.dataclass(frozen=True)
class TransitionTable:
    """The allowed moves of one model's state field.

    `moves` maps every state to the states it may go to (an empty set: terminal). `refused` is
    the lazily translated message for a move outside the table, with `%(ref)s` (the record's
    `reference`, else its `str()`), `%(pk)s`, `%(from)s` and `%(to)s` (the states' labels).
    `history` names the history model in the model's own app; its rows get `from_<field>`,
    `to_<field>`, `at`, `by` and `note`. `stamp` names a field set to the time of each move.
    """

    moves: Mapping[str, Collection[str]]
    refused: str
    history: str
    field: str = "status"
    stamp: str = ""
    # `field` above names the model's state field, so the dataclass helper goes by its module.
    _moves: Mapping[str, frozenset[str]] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        frozen = {str(state): frozenset(str(to) for to in tos) for state, tos in self.moves.items()}
        unknown = {to for tos in frozen.values() for to in tos} - set(frozen)
        if unknown:
            raise ValueError(f"moves to states without a row of their own: {sorted(unknown)}")
        object.__setattr__(self, "_moves", frozen)

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self._moves)

    @property
    def terminal(self) -> frozenset[str]:
        """States that are never left."""
        return frozenset(state for state, tos in self._moves.items() if not tos)

    def allows(self, from_state: str, to_state: str) -> bool:
        return to_state in self._moves.get(from_state, ())

    def refusal(self, obj: models.Model, to_state: str) -> Exception:
        """The domain error for moving `obj` to `to_state`, in the user's language."""
        # Imported here: the services module imports the models, and the models import this one.
        from .services import DomainError

        choices = dict(obj._meta.get_field(self.field).flatchoices)
        return DomainError(
            str(self.refused)
            % {
                "ref": getattr(obj, "reference", obj),
                "pk": obj.pk,
                "from": getattr(obj, f"get_{self.field}_display")(),
                "to": choices.get(to_state, to_state),
            }
        )

    def check(self, obj: models.Model, to_state: str) -> None:
        """Refuse a move of `obj` that the table does not allow."""
        if not self.allows(getattr(obj, self.field), to_state):
            raise self.refusal(obj, to_state)

    def history_model(self, model: type[models.Model]) -> type[models.Model]:
        # A proxy in another app (refurbish's view of devices) writes its model's history.
        concrete = model._meta.concrete_model
        return concrete._meta.apps.get_model(concrete._meta.app_label, self.history)

    def history_row(
        self,
        obj: models.Model,
        from_state: str,
        to_state: str,
        *,
        by,
        note: str,
        at: datetime,
        extra: Mapping | None = None,
        event_model: type[models.Model] | None = None,
    ) -> models.Model:
        """An unsaved history row for one move of `obj`."""
        event_model = event_model or self.history_model(type(obj))
        subject = getattr(event_model, "subject", "") or obj._meta.concrete_model._meta.model_name
        subject = subject.removesuffix("_id")
        return event_model(
            **{
                subject: obj,
                f"from_{self.field}": from_state,
                f"to_{self.field}": to_state,
                "at": at,
                "by": by,
                "note": note,
                **(extra or {}),
            }
        )


def _atomic(locked: bool):
    # A caller that holds the lock is inside its own transaction: no savepoint (one query
    # fewer per row in a bulk decision). Without one, the move is still one transaction.
    if locked and transaction.get_connection().in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def _register(on_commit: Callable | Iterable[Callable]) -> None:
    for callback in [on_commit] if callable(on_commit) else on_commit:
        transaction.on_commit(callback)


def transition(
    obj: models.Model,
    to_state: str,
    *,
    by,
    note: str = "",
    update_fields: Iterable[str] = (),
    event_fields: Mapping | None = None,
    at: datetime | None = None,
    on_commit: Callable | Iterable[Callable] = (),
    locked: bool = False,
) -> bool:
    """Move one row to `to_state` and write its history row; returns whether it moved.

    Without `locked`, the row is locked here and its current state read under the lock (the
    other fields the caller changed on `obj` are saved as they are). `update_fields` names
    those fields; `event_fields` adds fields to the history row; `on_commit` runs after commit,
    only when the row moved.
    """
    table = type(obj).transitions
    with _atomic(locked):
        if not locked:
            current = (
                type(obj)
                ._default_manager.select_for_update()
                .values_list(table.field, flat=True)
                .get(pk=obj.pk)
            )
            setattr(obj, table.field, current)
        from_state = getattr(obj, table.field)
        if from_state == to_state:
            return False
        table.check(obj, to_state)
        at = at or timezone.now()
        _apply(table, obj, to_state, at, update_fields)
        table.history_row(
            obj, from_state, to_state, by=by, note=note, at=at, extra=event_fields
        ).save()
        _register(on_commit)
    return True


def transition_many(
    objs: Iterable[models.Model],
    to_state: str,
    *,
    by,
    note: str = "",
    update_fields: Iterable[str] = (),
    event_fields: Mapping | None = None,
    at: datetime | None = None,
    on_commit: Callable | Iterable[Callable] = (),
    locked: bool = False,
) -> list:
    """Move rows of one model to `to_state`, all or none; returns those that moved.

    Without `locked`, the rows are locked here in primary-key order (two bulk moves over
    overlapping rows never deadlock). Every move is checked before anything is written; the
    history rows are written in one insert.
    """
    objs = sorted(objs, key=lambda obj: obj.pk)
    if not objs:
        return []
    model = type(objs[0])
    table = model.transitions
    update_fields = list(update_fields)
    with _atomic(locked):
        if not locked:
            current = dict(
                model._default_manager.select_for_update()
                .filter(pk__in=[obj.pk for obj in objs])
                .order_by("pk")
                .values_list("pk", table.field)
            )
            if len(current) < len({obj.pk for obj in objs}):
                raise model.DoesNotExist
            for obj in objs:
                setattr(obj, table.field, current[obj.pk])
        moving = [obj for obj in objs if getattr(obj, table.field) != to_state]
        for obj in moving:
            table.check(obj, to_state)
        at = at or timezone.now()
        event_model = table.history_model(model)
        events = []
        for obj in moving:
            from_state = getattr(obj, table.field)
            _apply(table, obj, to_state, at, update_fields)
            events.append(
                table.history_row(
                    obj,
                    from_state,
                    to_state,
                    by=by,
                    note=note,
                    at=at,
                    extra=event_fields,
                    event_model=event_model,
                )
            )
        event_model.objects.bulk_create(events)
        if moving:
            _register(on_commit)
    return moving


def _apply(table: TransitionTable, obj, to_state: str, at, update_fields) -> None:
    setattr(obj, table.field, to_state)
    fields = [table.field]
    if table.stamp:
        setattr(obj, table.stamp, at)
        fields.append(table.stamp)
    obj.save(update_fields=[*fields, *update_fields])
