"""Who is told what by e-mail, and the messages themselves.

Every e-mail is a job (``kind="email"``) whose key names the event and the person, so one event
makes one e-mail however many times it is noticed. Messages are written when sent, in the
recipient's language (the one they last chose), as plain text and HTML with no remote images;
links use PUBLIC_URL; no secret, token or code is ever put in one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from dashboard import messages as msg
from dashboard.background.jobs import Permanent, add_job
from dashboard.bills import queries as bill_queries
from dashboard.cashins import services as cashins
from dashboard.db import db, utcnow
from dashboard.labels import localtime, money
from dashboard.models import Bill, BillState, Cashin, CashinState, Job, Role, User
from dashboard.notifications import mail
from dashboard.reports import services as reports
from dashboard.settings import setting


@dataclass(frozen=True)
class Topic:
    label: Any
    help: Any
    roles: tuple[Role, ...]  # who may receive it
    default: bool  # before the person chooses


TOPICS: dict[str, Topic] = {
    "approval": Topic(
        _l("Cash-ins waiting for my approval"),
        _l("At most one e-mail every 10 minutes; the others wait in one summary."),
        (Role.ACCOUNTANT, Role.ADMIN),
        True,
    ),
    "cashin_problem": Topic(
        _l("Cash-ins that need checking"),
        _l("An outcome unknown, a send that never ended, or iHela's late answer disagreeing."),
        (Role.ACCOUNTANT, Role.ADMIN),
        True,
    ),
    "daily_summary": Topic(
        _l("Yesterday's figures, every morning"),
        _l("At 7:00: bills and cash-ins of the day before, and what is still open."),
        (Role.ADMIN,),
        True,
    ),
    "bill_paid": Topic(
        _l("My bills when they are paid"),
        _l("One e-mail per bill you issued, when iHela says it is paid."),
        (Role.CASHIER, Role.ACCOUNTANT, Role.ADMIN),
        False,
    ),
}


def topics_for(user: User) -> list[str]:
    return [name for name, topic in TOPICS.items() if user.role in topic.roles]


def wants(user: User, topic: str) -> bool:
    """Whether this person gets e-mails of this topic: their choice, else the role's default."""
    if not user.active or topic not in topics_for(user):
        return False
    chosen = (user.email_choices or {}).get(topic)
    return TOPICS[topic].default if chosen is None else bool(chosen)


def save_choices(user: User, chosen: dict[str, bool]) -> None:
    user.email_choices = {topic: bool(chosen.get(topic)) for topic in topics_for(user)}
    db.session.commit()


# --- who is told, once ---------------------------------------------------------------------


def _email(key: str, topic: str, user: User | None, **params: Any) -> int | None:
    return add_job(
        "email",
        f"email:{key}",
        {"topic": topic, **params},
        recipient_id=user.id if user is not None else None,
    )


def _every() -> timedelta:
    return timedelta(minutes=float(current_app.config["APPROVAL_MAIL_EVERY_MINUTES"]))


def _digest_key(user: User, due: datetime) -> str:
    return f"email:approval_digest:{user.id}:{due.isoformat()}"


def _ask_approval(user: User, cashin: Cashin) -> None:
    """One e-mail now, or — when this person had one in the last 10 minutes — a place in their
    next digest. Takes turns per person (their row is written first), so two cash-ins at once
    cannot both become an e-mail."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(approval_mail_at=User.approval_mail_at)
        .execution_options(synchronize_session=False)
    )
    last = db.session.scalar(select(User.approval_mail_at).where(User.id == user.id))
    now = utcnow()
    if last is None or last <= now - _every():
        db.session.execute(update(User).where(User.id == user.id).values(approval_mail_at=now))
        _email(f"approval:{cashin.id}:{user.id}", "approval", user, cashin_id=cashin.id)
        return
    due = last if last > now else last + _every()
    db.session.execute(update(User).where(User.id == user.id).values(approval_mail_at=due))
    digest = db.session.scalar(select(Job).where(Job.key == _digest_key(user, due)))
    if digest is None:
        add_job(
            "email",
            _digest_key(user, due),
            {"topic": "approval_digest", "cashins": [cashin.id]},
            recipient_id=user.id,
            run_after=due,
        )
    elif cashin.id not in digest.payload.get("cashins", []):
        digest.payload = {**digest.payload, "cashins": [*digest.payload["cashins"], cashin.id]}


def _already_asked(user: User, cashin: Cashin) -> bool:
    if db.session.scalar(select(Job.id).where(Job.key == f"email:approval:{cashin.id}:{user.id}")):
        return True
    due = user.approval_mail_at
    if due is None:
        return False
    digest = db.session.scalar(select(Job).where(Job.key == _digest_key(user, due)))
    return digest is not None and cashin.id in digest.payload.get("cashins", [])


def cashin_awaiting(cashin_id: int) -> None:
    """A cash-in waits for approval: each person who may approve it is asked."""
    cashin = db.session.get(Cashin, cashin_id)
    if cashin is None or cashin.state != CashinState.AWAITING_APPROVAL:
        return
    for user in cashins.approvers_of(cashin):
        if wants(user, "approval") and not _already_asked(user, cashin):
            _ask_approval(user, cashin)
            db.session.commit()


def _problem_of(cashin: Cashin) -> str:
    if cashin.has_open_conflict:
        return "late_conflict"
    return "unknown" if cashin.state == CashinState.UNKNOWN else "stuck"


def cashin_problems() -> None:
    """Cash-ins that need checking: accountants and admins are told once per problem."""
    staff = list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_((Role.ACCOUNTANT, Role.ADMIN)))
        )
    )
    for cashin in cashins.cashins_needing_checking():
        problem = _problem_of(cashin)
        if add_job("notify.noticed", f"cashin_problem:{cashin.id}:{problem}") is None:
            continue  # told before
        for user in staff:
            if wants(user, "cashin_problem"):
                key = f"cashin_problem:{cashin.id}:{problem}:{user.id}"
                _email(key, "cashin_problem", user, cashin_id=cashin.id, problem=problem)
        db.session.commit()


def bill_paid(bill_id: int) -> None:
    """A bill was paid: its issuer if they asked, and a receipt to the payer if turned on."""
    bill = db.session.get(Bill, bill_id)
    if bill is None or bill.state != BillState.PAID:
        return
    issuer = bill.issued_by
    if wants(issuer, "bill_paid"):
        _email(f"bill_paid:{bill.id}:{issuer.id}", "bill_paid", issuer, bill_id=bill.id)
    if setting("PAYER_RECEIPTS") and bill.payer_kind == "email":
        _email(f"receipt:{bill.id}", "receipt", None, bill_id=bill.id, to=bill.payer)
    db.session.commit()


def daily_summary(day: date) -> None:
    """Every morning: yesterday's figures to each admin who wants them."""
    admins = db.session.scalars(select(User).where(User.role == Role.ADMIN))
    for user in admins:
        if wants(user, "daily_summary"):
            _email(f"daily:{day.isoformat()}:{user.id}", "daily_summary", user, day=day.isoformat())
    db.session.commit()


# --- the messages --------------------------------------------------------------------------


@dataclass
class Letter:
    subject: str
    paragraphs: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    link: tuple[str, str] | None = None
    footer: str = ""


def _link(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _cashin_rows(cashin: Cashin) -> list[tuple[str, str]]:
    return [
        (_("Amount"), money(cashin.amount)),
        (_("To"), f"{cashin.holder_name} · {cashin.bank_name}"),
        (_("Description"), cashin.description),
        (_("Prepared by"), cashin.created_by.name),
    ]


def _approval(user: User, payload: dict[str, Any]) -> Letter | None:
    cashin = db.session.get(Cashin, int(payload["cashin_id"]))
    if cashin is None or cashin.state != CashinState.AWAITING_APPROVAL:
        return None  # decided meanwhile: nothing to ask any more
    reason = msg.render(cashin.approval_reason) if cashin.approval_reason else ""
    return Letter(
        subject=_(
            "Cash-in to approve: %(amount)s to %(holder)s",
            amount=money(cashin.amount),
            holder=cashin.holder_name,
        ),
        paragraphs=[
            _(
                "%(name)s prepared a cash-in that a second person must approve.",
                name=cashin.created_by.name,
            ),
            *([reason] if reason else []),
        ],
        rows=_cashin_rows(cashin),
        link=(_("Approve or reject it"), _link("cashins.detail", cashin_id=cashin.id)),
    )


def _approval_digest(user: User, payload: dict[str, Any]) -> Letter | None:
    waiting = [
        cashin
        for cashin in (db.session.get(Cashin, int(i)) for i in payload.get("cashins", []))
        if cashin is not None
        and cashin.state == CashinState.AWAITING_APPROVAL
        and cashin.created_by_id != user.id
    ]
    if not waiting:
        return None
    return Letter(
        subject=ngettext(
            "%(num)d more cash-in to approve", "%(num)d more cash-ins to approve", len(waiting)
        ),
        paragraphs=[_("Since the last e-mail, these cash-ins are waiting for a second person:")],
        items=[
            _(
                "%(amount)s to %(holder)s, prepared by %(name)s",
                amount=money(c.amount),
                holder=c.holder_name,
                name=c.created_by.name,
            )
            for c in waiting
        ],
        link=(_("Open the approvals"), _link("cashins.approvals")),
    )


PROBLEMS = {
    "unknown": _l(
        "iHela's answer to this cash-in was lost: the money may or may not have left. Nothing is "
        "sent again. Check with iHela and record what happened."
    ),
    "stuck": _l(
        "This cash-in's send never ended (the dashboard stopped while sending): the money may or "
        "may not have left. Check with iHela and record what happened."
    ),
    "late_conflict": _l(
        "iHela answered this cash-in late, and its answer disagrees with what was recorded. Check "
        "with iHela and settle it."
    ),
}


def _cashin_problem(user: User, payload: dict[str, Any]) -> Letter | None:
    cashin = db.session.get(Cashin, int(payload["cashin_id"]))
    if cashin is None or not (cashins.is_outcome_unknown(cashin) or cashin.has_open_conflict):
        return None  # resolved meanwhile
    return Letter(
        subject=_(
            "Cash-in to check: %(amount)s to %(holder)s",
            amount=money(cashin.amount),
            holder=cashin.holder_name,
        ),
        paragraphs=[str(PROBLEMS.get(str(payload.get("problem")), PROBLEMS["unknown"]))],
        rows=_cashin_rows(cashin),
        link=(_("Open the cash-in"), _link("cashins.detail", cashin_id=cashin.id)),
    )


def _figure(figure: reports.Figure) -> str:
    return f"{figure.count} · {money(figure.amount)}"


def _daily_summary(user: User, payload: dict[str, Any]) -> Letter:
    day = date.fromisoformat(str(payload["day"])) - timedelta(days=1)
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    period = reports.days_period(day, day, zone)
    billed = reports.bill_figures(period)
    sent = reports.cashin_figures(period)
    unknown_bills = bill_queries.unknown_bills_waiting()
    to_check = cashins.needs_checking_count()
    open_problems = []
    if unknown_bills:
        open_problems.append(
            ngettext(
                "%(num)d bill with an unknown outcome.",
                "%(num)d bills with an unknown outcome.",
                unknown_bills,
            )
        )
    if to_check:
        open_problems.append(
            ngettext("%(num)d cash-in needs checking.", "%(num)d cash-ins need checking.", to_check)
        )
    return Letter(
        subject=_(
            "%(merchant)s, %(day)s: %(amount)s collected",
            merchant=str(setting("MERCHANT_NAME")),
            day=format_date(day, "long"),
            amount=money(billed.paid.amount),
        ),
        paragraphs=[_("Yesterday's figures (bills and cash-ins made that day):")],
        rows=[
            (_("Bills issued"), _figure(billed.issued)),
            (_("Paid"), _figure(billed.paid)),
            (_("Waiting for payment"), _figure(billed.waiting)),
            (_("Expired"), _figure(billed.expired)),
            (_("Cash-ins sent"), _figure(sent.sent)),
            (_("Waiting for approval"), _figure(sent.awaiting_approval)),
            (_("Outcome unknown"), _figure(sent.unknown)),
            (_("Refunds sent"), _figure(sent.refunds)),
        ],
        items=open_problems or [_("Nothing is waiting to be checked.")],
        link=(_("Open the overview"), _link("home")),
    )


def _bill_paid(user: User, payload: dict[str, Any]) -> Letter | None:
    bill = db.session.get(Bill, int(payload["bill_id"]))
    if bill is None:
        return None
    return Letter(
        subject=_(
            "Bill paid: %(amount)s by %(payer)s", amount=money(bill.amount), payer=bill.payer
        ),
        paragraphs=[_("A bill you issued was paid.")],
        rows=[
            (_("Amount"), money(bill.amount)),
            (_("Payer"), bill.payer_name or bill.payer),
            (_("Description"), bill.description),
            (_("Reference"), bill.merchant_reference),
        ],
        link=(_("Open the bill"), _link("bills.detail", bill_id=bill.id)),
    )


def _receipt(payload: dict[str, Any]) -> Letter | None:
    bill = db.session.get(Bill, int(payload["bill_id"]))
    if bill is None or bill.state != BillState.PAID:
        return None
    merchant = str(setting("MERCHANT_NAME"))
    return Letter(
        subject=_(
            "Receipt from %(merchant)s: %(amount)s", merchant=merchant, amount=money(bill.amount)
        ),
        paragraphs=[_("Thank you: %(merchant)s received your payment.", merchant=merchant)],
        rows=[
            (_("Amount"), money(bill.amount)),
            (_("Description"), bill.description),
            (_("Reference"), bill.merchant_reference),
            (_("iHela reference"), bill.payment_reference or "—"),
            (_("Paid"), localtime(bill.updated_at)),
        ],
        footer=_(
            "Keep this e-mail as your receipt. Questions: reply to %(merchant)s.", merchant=merchant
        ),
    )


STAFF_LETTERS = {
    "approval": _approval,
    "approval_digest": _approval_digest,
    "cashin_problem": _cashin_problem,
    "daily_summary": _daily_summary,
    "bill_paid": _bill_paid,
}
# The topic a person chose for each kind of letter (a digest follows "approval").
CHOICE_OF = {"approval_digest": "approval"}


def _message(letter: Letter, to: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = formataddr((str(setting("MERCHANT_NAME")), current_app.config["MAIL_FROM"]))
    message["To"] = to
    domain = str(current_app.config["MAIL_FROM"]).rpartition("@")[2] or "localhost"
    # The same event keeps the same Message-ID: a rare second send is shown once by mail apps.
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
    message.set_content(render_template("email/message.txt", letter=letter))
    message.add_alternative(render_template("email/message.html", letter=letter), subtype="html")
    return message


def send(job: Job) -> None:
    """Write and send the e-mail a job stands for (nothing when it no longer applies)."""
    topic = str(job.payload["topic"])
    public = str(current_app.config["PUBLIC_URL"])
    with current_app.test_request_context("/", base_url=public):
        if job.recipient_id is None:
            address = job.payload.get("to")
            if not address or topic != "receipt":
                raise Permanent("an e-mail with nobody to send it to")
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                letter = _receipt(job.payload)
                if letter is not None:
                    mail.deliver(_message(letter, str(address), job.key))
            return
        user = db.session.get(User, job.recipient_id)
        if user is None or not wants(user, CHOICE_OF.get(topic, topic)):
            return  # left, or chose not to get these since
        language = user.language or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(language):
            letter = STAFF_LETTERS[topic](user, job.payload)
            if letter is None:
                return
            letter.footer = _(
                "You get this e-mail as %(name)s. Choose which e-mails you get: %(url)s",
                name=user.name,
                url=_link("notifications.choices"),
            )
            mail.deliver(_message(letter, formataddr((user.name, user.email)), job.key))
