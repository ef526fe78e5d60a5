"""Query expressions the apps share."""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def related_count(model, field: str, **match):
    """The rows of `model` whose `field` points at the outer row (and that match `match`),
    counted per outer row as a correlated subquery on `field`'s index: evaluated for the
    outer query's rows only (a page of them), where a GROUP BY over a join would count every
    row of both tables. 0 where there are none."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")}, **match)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)
