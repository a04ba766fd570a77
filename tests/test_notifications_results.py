"""Mail to authors when their proposal is reviewed, concluded and published, in their language."""
from app import notifications
from app.extensions import db
from app.models import Cycle, Proposal
from tests.helpers import conclude_all, publish


def test_author_is_told_in_their_language(app, counted_cycle, staff):
    ids = counted_cycle(author_locale="ru", author_email="dana@example.kz")
    conclude_all(app, ids, staff[0])
    with app.test_request_context("/en/"):
        proposal = db.session.get(Proposal, ids["proposals"]["A"])
        assert notifications.notify_proposal_reviewed(proposal)
        assert notifications.notify_proposal_concluded(proposal)
        outbox = app.extensions["outbox"]
        reviewed, concluded = outbox[-2], outbox[-1]
        assert reviewed.recipients == ["dana@example.kz"] and "Сквер на Абая" in reviewed.body
        assert f"/ru/proposals/{proposal.id}" in reviewed.body  # the author's language, not the request's
        assert "Проект одобрен к реализации." in concluded.body  # the Russian justification
    publish(app, ids, staff[0])
    with app.test_request_context("/en/"):
        before = len(app.extensions["outbox"])
        assert notifications.notify_cycle_published(db.session.get(Cycle, ids["cycle"])) == 4
        assert f"/ru/cycles/{ids['cycle']}/results" in app.extensions["outbox"][before].body


def test_no_mail_without_an_address(app, counted_cycle, staff):
    ids = counted_cycle(author_email=None)
    with app.test_request_context("/en/"):
        assert not notifications.notify_proposal_reviewed(db.session.get(Proposal, ids["proposals"]["A"]))
