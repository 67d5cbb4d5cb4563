"""The audit trail's filter: person, action, object and date range, read from the address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, select
from werkzeug.datastructures import MultiDict

from dashboard.db import db
from dashboard.labels import AUDIT_ACTION_GROUPS, AUDIT_ACTIONS, translated
from dashboard.models import AuditEvent, Bill, Cashin
from dashboard.paging import sortable
from dashboard.row_links import row_url
from dashboard.search import TextIndex, bounded_count, bounded_matches
from dashboard.security import id_from_text

# What url_for leaves as it is in an #anchor.
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"
OBJECT_TYPES = ("bill", "cashin", "user", "setting", "customer", "item", "poster")
# Offered in the action field's list; a prefix such as "bill." matches every bill action.
KNOWN_ACTIONS = tuple(sorted([*AUDIT_ACTION_GROUPS, *AUDIT_ACTIONS]))


# "E-mail typed contains", through a trigram index (migration f1701a0a0001).
WHO_TEXT = TextIndex(
    columns=(AuditEvent.actor_label,),
    pg_function="lower",
    fts_table="audit_search",
    ident=AuditEvent.id,
    sample_table="audit_search_sample",
    sample_every=8,
)


def _object_type_labels(t: Any) -> dict[str, str]:
    return {
        "bill": t.gettext("Bill"),
        "cashin": t.gettext("Cash-in"),
        "user": t.gettext("Staff member"),
        "setting": t.gettext("Setting"),
        "customer": t.gettext("Customer"),
        "item": t.gettext("Item"),
        "poster": t.gettext("Poster"),
    }


def object_type_label(kind: str | None) -> str:
    kind = kind or ""
    return translated(_object_type_labels, kind) or kind


def object_links(events: Sequence[AuditEvent]) -> dict[int, str]:
    """Where each entry's object can be seen, by entry id. Bills and cash-ins are recorded
    by merchant reference: one query per kind finds their pages."""
    ids: dict[str, dict[str, int]] = {}
    for kind, model in (("bill", Bill), ("cashin", Cashin)):
        refs = {e.object_id or "" for e in events if e.object_type == kind and e.object_id}
        ids[kind] = {}
        if refs:
            found = db.session.execute(
                select(model.merchant_reference, model.id).where(model.merchant_reference.in_(refs))
            )
            ids[kind] = {ref: ident for ref, ident in found}
    bill_url = row_url("bills.detail", "bill_id")
    cashin_url = row_url("cashins.detail", "cashin_id")
    customer_url = row_url("customers.detail", "customer_id")
    pages: dict[str, str] = {}  # the page each kind's anchors are on, built once

    def anchored(endpoint: str, anchor: str) -> str:
        """As url_for(endpoint, _anchor=anchor)."""
        page = pages.get(endpoint)
        if page is None:
            page = pages[endpoint] = url_for(endpoint)
        return f"{page}#{quote(anchor, safe=ANCHOR_SAFE)}"

    links = {}
    for event in events:
        about, ident = event.object_type, event.object_id or ""
        url = None
        if about == "bill" and ident in ids["bill"]:
            url = bill_url(ids["bill"][ident])
        elif about == "cashin" and ident in ids["cashin"]:
            url = cashin_url(ids["cashin"][ident])
        elif about == "user" and id_from_text(ident):
            url = anchored("admin.users", "user-" + ident)
        elif about == "setting" and ident:
            url = anchored("admin.settings_page", "setting-" + ident)
        elif about == "customer" and id_from_text(ident):
            url = customer_url(int(ident))
        elif about == "item" and id_from_text(ident):
            url = anchored("pricelist.index", "item-" + ident)
        elif about == "poster" and id_from_text(ident):
            url = anchored("shop.posters", "poster-" + ident)
        if url:
            links[event.id] = url
    return links


def _day(text: str, zone: ZoneInfo) -> datetime:
    day = datetime.strptime(text, "%Y-%m-%d")  # ValueError for the caller
    if not 2000 <= day.year <= 2100:  # keeps date arithmetic away from year 1 and 9999
        raise ValueError(text)
    return day.replace(tzinfo=zone)


@dataclass
class AuditFilter:
    person: int | None = None  # the acting staff member's id
    who: str = ""  # part of the e-mail typed (also failed logins of unknown addresses)
    action: str = ""  # an action or its prefix ("bill.")
    object_type: str = ""
    object_id: str = ""
    date_from: str = ""  # YYYY-MM-DD in the merchant's zone, inclusive
    date_to: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    _start: datetime | None = None
    _end: datetime | None = None

    @classmethod
    def from_args(cls, args: MultiDict[str, str], zone: str) -> AuditFilter:
        """Read the filter; a bad date is reported for its field and not applied."""
        date_from = args.get("from", "").strip()
        date_to = args.get("to", "").strip()
        day = args.get("day", "").strip()  # older links: one day
        if day and not (date_from or date_to):
            date_from = date_to = day
        kind = args.get("object_type", "").strip()
        found = cls(
            person=id_from_text(args.get("person", "").strip()),
            who=args.get("who", "").strip().lower()[:254],
            action=args.get("action", "").strip()[:60],
            object_type=kind if kind in OBJECT_TYPES else "",
            object_id=args.get("object_id", "").strip()[:64],
            date_from=date_from,
            date_to=date_to,
        )
        tz = ZoneInfo(zone)
        for name, text in (("from", date_from), ("to", date_to)):
            if not text:
                continue
            try:
                start = _day(text, tz)
            except ValueError:
                found.errors[name] = _("The date must look like 2026-11-29.")
                continue
            if name == "from":
                found._start = start
            else:
                found._end = start + timedelta(days=1)
        if found._start and found._end and found._start >= found._end:
            found.errors["to"] = _("The end date is before the start date.")
            found._start = found._end = None
        return found

    def apply(self, query: Select[Any], *, many: bool = False) -> Select[Any]:
        if self.person:
            query = query.where(AuditEvent.actor_id == self.person)
        if self.who:
            query = query.where(WHO_TEXT.matches(self.who, many=many))
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action, autoescape=True))
            if not many:
                # Few: the range lets the (action, created_at, id) index find them in any
                # collation. Many (a prefix of common actions): the newest are found sooner
                # walking the trail newest first than sorting every match.
                after = self.action[:-1] + chr(ord(self.action[-1]) + 1)
                query = query.where(AuditEvent.action >= self.action, AuditEvent.action < after)
        if self.object_type:
            kind = AuditEvent.object_type
            # Many of a kind and no object named: walk newest first (see above); ``kind || ''``
            # is the same value that no index offers.
            use = kind.concat("") if many and not self.object_id else kind
            query = query.where(use == self.object_type)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        if self._start:
            query = query.where(AuditEvent.created_at >= self._start)
        if self._end:
            query = query.where(AuditEvent.created_at < self._end)
        return query

    def bounded(self) -> tuple[int | None, Select[Any], list[tuple[Any, int]] | None]:
        """How many entries the filter shows, None past COUNT_BOUND ("more than"); the query of
        its list; and for a search's few matches, their keys (created_at, id), read once
        through the trigram index: the list's page is chosen among them (paging.keyset_page's
        ``known``; dashboard/search.py)."""
        if not WHO_TEXT.indexed(self.who):
            total = bounded_count(self.apply(select(AuditEvent.id)))
            return total, self.apply(select(AuditEvent), many=total is None), None
        alone = self.as_args().keys() == {"who"}
        keys: Any = select(sortable(AuditEvent.created_at), AuditEvent.id)
        rows = bounded_matches(self.apply(keys), WHO_TEXT, self.who, alone=alone)
        if rows is None:
            return None, self.apply(select(AuditEvent), many=True), None
        return len(rows), select(AuditEvent), [(created_at, ident) for created_at, ident in rows]

    def as_args(self) -> dict[str, str]:
        """The filter as address parameters (for links to other pages of the list)."""
        values = {
            "person": str(self.person or ""),
            "who": self.who,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "from": self.date_from,
            "to": self.date_to,
        }
        return {key: value for key, value in values.items() if value}
