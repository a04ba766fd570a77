"""The demo (`flask demo seed`, run by `make run`): dated consistently relative to today,
every staff text in kk, ru and en, and the same data however often it is seeded."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.languages import LANGUAGES
from app.models import Ballot, Conclusion, Cycle, ImplementationUpdate, Proposal


def _by_phase(cycles):
    return {c.phase: c for c in cycles}


def _snapshot():
    counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
              for table in db.metadata.sorted_tables}
    cycles = [(c.id, c.phase, c.created_at, c.published_at, c.results_digest)
              for c in db.session.scalars(select(Cycle).order_by(Cycle.id))]
    proposals = [(p.id, p.status, p.created_at, p.reviewed_at)
                 for p in db.session.scalars(select(Proposal).order_by(Proposal.id))]
    return counts, cycles, proposals


def test_demo_is_dated_relative_to_today_complete_in_three_languages_and_idempotent(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    now = datetime.now(timezone.utc)
    with app.app_context():
        cycles = db.session.scalars(select(Cycle).order_by(Cycle.id)).all()
        by_phase = _by_phase(cycles)
        assert set(by_phase) == {"proposals", "voting", "published"}

        taking = by_phase["proposals"]
        assert taking.proposals_open <= now < taking.proposals_close
        assert all(taking.proposals_open <= p.created_at <= now for p in taking.proposals)

        voting = by_phase["voting"]
        assert voting.voting_open <= now < voting.voting_close
        assert all(voting.proposals_open <= p.created_at <= voting.proposals_close for p in voting.proposals)
        assert all(voting.proposals_close <= p.reviewed_at <= voting.voting_open for p in voting.proposals)
        cast = db.session.scalars(select(Ballot.cast_at).where(Ballot.cycle_id == voting.id)).all()
        assert cast and all(voting.voting_open <= moment <= now for moment in cast)

        last = by_phase["published"]
        assert last.year == now.year - 1
        assert last.published_at.year == now.year - 1 and last.published_at < now
        assert last.created_at < last.proposals_open
        for p in last.proposals:
            assert last.proposals_open <= p.created_at <= last.proposals_close, p.id
            assert last.proposals_close <= p.reviewed_at <= last.voting_open, p.id
            assert p.updated_at < now.replace(year=now.year - 1, month=12, day=31)
        cast = db.session.scalars(select(Ballot.cast_at).where(Ballot.cycle_id == last.id)).all()
        assert cast and all(last.voting_open <= moment <= last.voting_close for moment in cast)
        assert last.voting_close <= last.counted_at < last.published_at
        conclusions = db.session.scalars(select(Conclusion).join(Proposal)
                                         .where(Proposal.cycle_id == last.id)).all()
        assert conclusions and all(last.counted_at <= c.decided_at < last.published_at for c in conclusions)
        assert all(c.document_date <= last.published_at.date() for c in conclusions)
        updates = db.session.scalars(select(ImplementationUpdate).join(Proposal)
                                     .where(Proposal.cycle_id == last.id)).all()
        assert updates
        for update in updates:
            assert last.published_at.date() <= update.on_date < now.date()
            assert update.created_at < now

        # Every staff text in all three languages.
        for cycle in cycles:
            for lang in LANGUAGES:
                assert getattr(cycle, f"title_{lang}").strip(), (cycle.id, lang)
                assert getattr(cycle, f"description_{lang}").strip(), (cycle.id, lang)
        for c in conclusions:
            assert all(c.justification_i18n[lang] for lang in LANGUAGES), c.proposal_id
        for update in updates:
            assert all(update.note_i18n.values()), update.id
        rejected = db.session.scalars(select(Proposal).where(Proposal.status == "rejected")).all()
        assert rejected
        for p in rejected:
            assert all(p.review_reason_i18n.values()), p.id
        before = _snapshot()

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert _snapshot() == before
