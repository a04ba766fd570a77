"""Emails to proposal authors and to the staff a cycle needs, each in their own language
(User.locale). Authors get them as they chose on their profile page (User.notify_proposals,
User.notify_results); a password reset link always goes.

Called by views and the API after their commit, so a failed transaction never sends mail, and
by the count's job (app/jobs.py). Each message is composed here, in its reader's language, and
delivered by a background job (app.mail.send_mail: RQ with retries; inline without Redis).
"""
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.domain import cycles as cycle_domain
from app.domain import texts
from app.i18n import LANGUAGES
from app.mail import send_mail
from app.models import ProposalStatus
from app.web import public_url


def _link(path):
    return public_url(path)  # from configuration, never the request's Host header


def _locale(user):
    return user.locale if user.locale in LANGUAGES else "kk"


def notify_proposal_reviewed(proposal):
    """The Expert Council admitted, rejected or returned the author's proposal."""
    author = proposal.author
    if not author.notify_proposals:
        return False
    lang = _locale(author)
    reason = texts.localized(proposal.review_reason_i18n, lang)[0]
    with force_locale(lang):
        if proposal.status == ProposalStatus.ADMITTED.value:
            text = _("Your proposal \"%(title)s\" is admitted to voting.", title=proposal.title)
        elif proposal.status == ProposalStatus.REJECTED.value:
            text = _("Your proposal \"%(title)s\" is rejected. Reason: %(reason)s",
                     title=proposal.title, reason=reason)
        else:
            text = _("The Expert Council asks you to revise your proposal \"%(title)s\": %(reason)s",
                     title=proposal.title, reason=reason)
        subject = _("Your proposal has been reviewed")
        body = "\n\n".join([text, _link(f"/{lang}/proposals/{proposal.id}")])
    return send_mail(author.email, subject, body)


def notify_proposal_concluded(proposal):
    """The akimat recorded its conclusion on the author's proposal."""
    author, conclusion = proposal.author, proposal.conclusion
    if conclusion is None or not author.notify_proposals:
        return False
    lang = _locale(author)
    with force_locale(lang):
        if conclusion.decision == "approved":
            text = _("The akimat approved your proposal \"%(title)s\" for implementation.",
                     title=proposal.title)
        else:
            text = _("The akimat did not approve your proposal \"%(title)s\" for implementation.",
                     title=proposal.title)
        justification = texts.localized(conclusion.justification_i18n, lang)[0]
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
        if not author.notify_results:
            continue
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


# --- Staff: when a cycle needs them ----------------------------------------------------------

def _tell_staff(cycle, write):
    """Send write(lang) -> (subject, body) to each staff member the cycle needs, in their language."""
    sent = 0
    for member in cycle_domain.staff_to_notify(cycle):
        lang = _locale(member)
        with force_locale(lang):
            subject, body = write(lang)
        sent += bool(send_mail(member.email, subject, body))
    return sent


def notify_proposal_submitted(proposal):
    """A resident submitted a proposal: the staff have one more to review."""
    cycle = proposal.cycle

    def write(lang):
        return (_("New proposal in \"%(cycle)s\"", cycle=cycle.title(lang)),
                "\n\n".join([_("A resident submitted the proposal \"%(title)s\" (№%(id)s). The Expert Council "
                                 "reviews it in the review phase.", title=proposal.title, id=proposal.id),
                             _link(f"/{lang}/staff/cycles/{cycle.id}#proposals")]))
    return _tell_staff(cycle, write)


def notify_revision_overdue(proposal):
    """A revision deadline passed: the council decides on the proposal as it stands."""
    cycle = proposal.cycle

    def write(lang):
        return (_("A revision deadline has passed"),
                "\n\n".join([_("The deadline for revising the proposal \"%(title)s\" (№%(id)s) has passed. "
                                 "Decide on the proposal: voting cannot open before every proposal is decided.",
                                 title=proposal.title, id=proposal.id),
                             _link(f"/{lang}/staff/proposals/{proposal.id}/review")]))
    return _tell_staff(cycle, write)


def notify_voting_counted(cycle):
    """Voting closed and the ballots are counted: the akimat writes its conclusions."""
    def write(lang):
        body = [ngettext("Voting in \"%(cycle)s\" is closed and counted: %(num)s resident voted.",
                         "Voting in \"%(cycle)s\" is closed and counted: %(num)s residents voted.",
                         cycle.voters_count or 0, cycle=cycle.title(lang)),
                _("Write the akimat's conclusion on every admitted proposal, then publish the results."),
                _link(f"/{lang}/staff/cycles/{cycle.id}/conclusions")]
        return _("Voting is closed and counted"), "\n\n".join(body)
    return _tell_staff(cycle, write)


def notify_phase_moved(cycle):
    """After a committed phase move (page or API): tell whoever the new phase concerns. (The
    close is told by the count's job, once the ballots are counted: app/jobs.py.)"""
    if cycle.phase == "published":
        return notify_cycle_published(cycle)
    return 0


def send_password_reset(user, token):
    """The one-time link to set a new password (app.domain.accounts.request_password_reset), by
    email and by SMS to a confirmed phone. The SMS is skipped, silently, when the number has had
    its share of messages (the page must answer the same) or the site sends no SMS."""
    lang = _locale(user)
    link = _link(f"/{lang}/password/reset/{token}")
    with force_locale(lang):
        subject = _("Set a new password")
        body = "\n\n".join([_("Someone (we hope you) asked to set a new Qatysu password for your account. "
                               "The link works once, for one hour. If it was not you, ignore this email."),
                             link])
        text = _("Qatysu: to set a new password, open %(link)s (once, within one hour). If it was not "
                 "you, ignore this message.", link=link)
    sent = send_mail(user.email, subject, body)
    if user.confirmed_phone:
        from app import phone_codes, sms
        from app.domain.errors import Throttled

        try:
            phone_codes.count_message(user.confirmed_phone)
            sent = sms.send_sms(user.confirmed_phone, text) or sent
        except (Throttled, sms.SmsUnavailable):
            pass
    return sent
