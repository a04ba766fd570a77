"""Emails to proposal authors, in each author's own language (User.locale).

Called by views and the API after their commit, so a failed transaction never sends mail.
Sending goes through app.mail.send_mail (console backend in development, memory in tests).
"""
from flask import has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import LANGUAGES
from app.mail import send_mail
from app.models import ProposalStatus


def _link(path):
    base = request.host_url.rstrip("/") if has_request_context() else ""
    return base + path


def _locale(user):
    return user.locale if user.locale in LANGUAGES else "kk"


def notify_proposal_reviewed(proposal):
    """The Expert Council admitted, rejected or returned the author's proposal."""
    author = proposal.author
    lang = _locale(author)
    with force_locale(lang):
        if proposal.status == ProposalStatus.ADMITTED.value:
            text = _("Your proposal \"%(title)s\" is admitted to voting.", title=proposal.title)
        elif proposal.status == ProposalStatus.REJECTED.value:
            text = _("Your proposal \"%(title)s\" is rejected. Reason: %(reason)s",
                     title=proposal.title, reason=proposal.review_reason)
        else:
            text = _("The Expert Council asks you to revise your proposal \"%(title)s\": %(reason)s",
                     title=proposal.title, reason=proposal.review_reason)
        subject = _("Your proposal has been reviewed")
        body = "\n\n".join([text, _link(f"/{lang}/proposals/{proposal.id}")])
    return send_mail(author.email, subject, body)


def notify_proposal_concluded(proposal):
    """The akimat recorded its conclusion on the author's proposal."""
    author, conclusion = proposal.author, proposal.conclusion
    if conclusion is None:
        return False
    lang = _locale(author)
    with force_locale(lang):
        if conclusion.decision == "approved":
            text = _("The akimat approved your proposal \"%(title)s\" for implementation.",
                     title=proposal.title)
        else:
            text = _("The akimat did not approve your proposal \"%(title)s\" for implementation.",
                     title=proposal.title)
        justification = getattr(conclusion, f"justification_{lang}") or next(
            (t for t in (conclusion.justification_ru, conclusion.justification_kk,
                         conclusion.justification_en) if t), "")
        parts = [text]
        if justification:
            parts.append(_("Justification: %(text)s", text=justification))
        parts.append(_("The conclusion becomes public when the results are published."))
        subject = _("Conclusion of the akimat on your proposal")
    return send_mail(author.email, subject, "\n\n".join(parts))


def notify_cycle_published(cycle):
    """The results and conclusions are published: tell every author of an admitted proposal."""
    sent = 0
    for proposal in cycle.proposals:
        if proposal.status != ProposalStatus.ADMITTED.value:
            continue
        author = proposal.author
        lang = _locale(author)
        with force_locale(lang):
            subject = _("The results are published")
            body = "\n\n".join([
                _("The results of the vote and the conclusions of the akimat on \"%(cycle)s\" are "
                  "published, including the conclusion on your proposal \"%(title)s\".",
                  cycle=cycle.title(lang), title=proposal.title),
                _link(f"/{lang}/cycles/{cycle.id}/results")])
        sent += bool(send_mail(author.email, subject, body))
    return sent


def send_password_reset(user, token):
    """The one-time link to set a new password (app.domain.accounts.request_password_reset)."""
    lang = _locale(user)
    link = _link(f"/{lang}/password/reset/{token}")
    with force_locale(lang):
        subject = _("Set a new password")
        body = "\n\n".join([_("Someone (we hope you) asked to set a new Qatysu password for your account. "
                               "The link works once, for one hour. If it was not you, ignore this email."),
                             link])
    return send_mail(user.email, subject, body)
