"""A person's account page for e-mails: which ones they get."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from dashboard.notifications import services

bp = Blueprint("notifications", __name__)


@bp.route("/account/emails", methods=["GET", "POST"])
@login_required
def choices() -> ResponseReturnValue:
    form = FlaskForm()
    topics = services.topics_for(current_user)
    if form.validate_on_submit():
        services.save_choices(current_user, {t: request.form.get(t) == "on" for t in topics})
        flash(_("Your e-mail choices are saved."), "success")
        return redirect(url_for("notifications.choices"), 303)
    return render_template(
        "auth/emails.html",
        form=form,
        topics=[
            (name, services.TOPICS[name], services.wants(current_user, name)) for name in topics
        ],
    )
