"""A budget's notifications and subscribers as sets: their canonical form, how declared ones are
paired with AWS's, and the fewest calls that turn one set into another. Pure: no AWS here.

Diff field paths, as a person reads them in a plan:
  `limit.amount`, `limit.unit`, `timeUnit`, `budgetType`      the budget itself;
  `notifications[i].threshold` (any of notificationType, comparisonOperator, threshold,
    thresholdType)                                             declared notification i (its
                                                               position in the manifest) is in
                                                               AWS with that field changed;
  `notifications[i].subscribers`                               its subscriber set differs;
  `notifications[i]`                                           it is not in AWS: it is added;
  `notifications`                                              AWS has notifications the
                                                               manifest does not declare (they
                                                               are deleted); desired and actual
                                                               are then the whole sets.
A declared notification is "in AWS" when AWS has one with the same identity (type, operator,
threshold, threshold type; how AWS itself names a notification), or, failing that, an
undeclared one sharing at least two of those four fields: an edit in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.kinds.compare import compare
from reconciler.plan import Diff

if TYPE_CHECKING:
    from mypy_boto3_budgets.type_defs import NotificationTypeDef, SpendTypeDef, SubscriberTypeDef

#: A notification in manifest spelling, subscribers sorted; a subscriber as (type, address).
Note = dict[str, Any]
Sub = tuple[str, str]
IDENTITY = ("notificationType", "comparisonOperator", "threshold", "thresholdType")


def number(value: Any) -> int | float:
    """`"50"`, `50` and `"50.0"` as one JSON number: an int when whole, else a float."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def amount(value: Any) -> str:
    """A number as the decimal string Budgets expects (`50`, `12.5`, never `5E+1`)."""
    return format(Decimal(str(value)).normalize(), "f")


def subscriber_list(items: Iterable[Sub]) -> list[dict[str, str]]:
    """A subscriber set in canonical order (type, then address), duplicates dropped."""
    return [{"type": kind, "address": address} for kind, address in sorted(set(items))]


def notification(
    kind: str, operator: str, threshold: Any, threshold_type: str, subs: Iterable[Sub]
) -> Note:
    return {
        "notificationType": kind,
        "comparisonOperator": operator,
        "threshold": number(threshold),
        "thresholdType": threshold_type,
        "subscribers": subscriber_list(subs),
    }


def identity(note: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(Decimal(str(note[key])) if key == "threshold" else note[key] for key in IDENTITY)


def canonical(notes: Iterable[Note]) -> list[Note]:
    """Notifications in canonical order, so manifest order never shows as drift."""
    return sorted(
        notes, key=lambda n: (*identity(n), [tuple(s.values()) for s in n["subscribers"]])
    )


def subscriber_set(note: Mapping[str, Any]) -> set[Sub]:
    return {(s["type"], s["address"]) for s in note["subscribers"]}


@dataclass(frozen=True)
class Match:
    """Declared notifications paired with AWS's: (declared index, AWS index) pairs and the rest."""

    pairs: list[tuple[int, int]]
    added: list[int]
    removed: list[int]


def match(desired: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]) -> Match:
    """Pair by identity first, then edits in place (two or more identity fields shared)."""
    by_identity = {identity(note): j for j, note in enumerate(actual)}
    pairs: list[tuple[int, int]] = []
    free_d: list[int] = []
    free_a = set(range(len(actual)))
    for i, note in enumerate(desired):
        j = by_identity.get(identity(note))
        if j is not None and j in free_a:
            pairs.append((i, j))
            free_a.discard(j)
        else:
            free_d.append(i)
    candidates = []
    for i in free_d:
        for j in sorted(free_a):
            shared = sum(
                a == b for a, b in zip(identity(desired[i]), identity(actual[j]), strict=True)
            )
            if shared >= 2:
                likeness = 2 * shared + (subscriber_set(desired[i]) == subscriber_set(actual[j]))
                candidates.append((-likeness, i, j))
    taken: set[int] = set()
    for _, i, j in sorted(candidates):
        if i not in taken and j in free_a:
            pairs.append((i, j))
            taken.add(i)
            free_a.discard(j)
    return Match(
        pairs=sorted(pairs),
        added=[i for i in free_d if i not in taken],
        removed=sorted(free_a),
    )


@dataclass(frozen=True)
class SubscriberEdits:
    """The fewest subscriber calls from one set to another: same-type swaps become updates."""

    update: list[tuple[Sub, Sub]]
    create: list[Sub]
    delete: list[Sub]

    @property
    def calls(self) -> int:
        return len(self.update) + len(self.create) + len(self.delete)


def subscriber_edits(want: set[Sub], have: set[Sub]) -> SubscriberEdits:
    update: list[tuple[Sub, Sub]] = []
    create: list[Sub] = []
    delete: list[Sub] = []
    for kind in sorted({k for k, _ in want ^ have}):
        adds = sorted(s for s in want - have if s[0] == kind)
        drops = sorted(s for s in have - want if s[0] == kind)
        pairs = min(len(adds), len(drops))
        update += zip(drops[:pairs], adds[:pairs], strict=True)
        create += adds[pairs:]
        delete += drops[pairs:]
    return SubscriberEdits(update, create, delete)


# --- to and from AWS's shapes ------------------------------------------------------------------


def aws_notification(note: Mapping[str, Any]) -> NotificationTypeDef:
    return {
        "NotificationType": note["notificationType"],
        "ComparisonOperator": note["comparisonOperator"],
        "Threshold": float(note["threshold"]),
        "ThresholdType": note["thresholdType"],
    }


def aws_subscriber(sub: Sub) -> SubscriberTypeDef:
    return {"SubscriptionType": sub[0], "Address": sub[1]}  # type: ignore[typeddict-item]


def aws_limit(want: Mapping[str, Any]) -> SpendTypeDef:
    return {"Amount": amount(want["limit"]["amount"]), "Unit": want["limit"]["unit"]}


def from_aws(answer: Mapping[str, Any], subscribers: Iterable[Mapping[str, Any]]) -> Note:
    return notification(
        answer["NotificationType"],
        answer["ComparisonOperator"],
        answer["Threshold"],
        answer.get("ThresholdType") or "PERCENTAGE",
        ((s["SubscriptionType"], s["Address"]) for s in subscribers),
    )


def core(budget: Mapping[str, Any]) -> dict[str, Any]:
    """The budget's own managed fields in manifest spelling (`limit` None for planned limits)."""
    limit = budget.get("BudgetLimit")
    return {
        "limit": ({"amount": number(limit["Amount"]), "unit": limit["Unit"]} if limit else None),
        "timeUnit": budget.get("TimeUnit"),
        "budgetType": budget.get("BudgetType"),
    }


def diffs(declared: Sequence[Note], actual: Sequence[Note], wanted: Sequence[Note]) -> list[Diff]:
    """The notification diffs, by the field paths above: `declared` in manifest order, `actual`
    as AWS has them, `wanted` the declared ones in canonical order."""
    match_ = match(declared, actual)
    by_index: list[tuple[int, list[Diff]]] = []
    for i, j in match_.pairs:
        prefix = f"notifications[{i}]."
        found = compare({key: declared[i][key] for key in IDENTITY}, actual[j], prefix)
        if subscriber_set(declared[i]) != subscriber_set(actual[j]):
            found.append(
                Diff(
                    field=f"{prefix}subscribers",
                    desired=declared[i]["subscribers"],
                    actual=actual[j]["subscribers"],
                )
            )
        by_index.append((i, found))
    for i in match_.added:
        by_index.append((i, [Diff(field=f"notifications[{i}]", desired=declared[i], actual=None)]))
    result: list[Diff] = []
    for _, found in sorted(by_index, key=lambda item: item[0]):
        result += found
    if match_.removed:
        result.append(Diff(field="notifications", desired=list(wanted), actual=canonical(actual)))
    return result
