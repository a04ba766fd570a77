"""What a published cycle shows the world: the results document, its digest, the CSV and the
anonymised ballots in the Pabulib format.

The digest (Cycle.results_digest) lets anyone check that two copies of the results are the
same. It is recomputable from `GET /api/v1/cycles/<id>/results` alone:

    payload = {
      "cycle": <id>, "budget": <budget>, "rule": <rule>, "min_voters": <min_voters>,
      "voters": <voters>,
      "seal": {"root": <seal.root>, "leaves": <seal.leaves>},  # only when the response has a seal
      "proposals": [  # every proposal of the response, sorted by id
        {"id", "title", "cost", "votes", "eligible", "selected",
         "decision": conclusion.decision,
         "justification_i18n": conclusion.justification_i18n,   # kk/ru/en, null when absent
         "document_number": conclusion.document_number,
         "document_date": conclusion.document_date}, ...]}
    sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")).hexdigest()

(`digest_payload_from_json` below is exactly that recipe, and a test checks it against the
stored digest. Cycles published before ballots were sealed have no `seal` in their response,
and their digest, computed without it, still checks.)
"""
import csv
import hashlib
import hmac
import io
import json

from sqlalchemy.orm import selectinload

from app.domain import paper, texts
from app.extensions import db
from app.languages import LANGUAGES
from app.models import Ballot, BallotSeal, BallotStyle, CountingRule, ImplementationUpdate, Proposal, ProposalStatus

# Our rule names -> (Pabulib META `rule`, the engine's key for `python -m app.tally --rule`).
PABULIB_RULE = {CountingRule.GREEDY.value: ("greedy", "greedy"),
                CountingRule.MES.value: ("equalshares/add1", "mes")}


def counted_proposals(cycle):
    """Admitted proposals with their stored count, most votes first; their result, conclusion
    and implementation updates are loaded with them (a few queries, not a few per proposal)."""
    proposals = db.session.scalars(
        db.select(Proposal).where(Proposal.cycle_id == cycle.id,
                                  Proposal.status == ProposalStatus.ADMITTED.value)
        .options(selectinload(Proposal.result), selectinload(Proposal.conclusion))
        .order_by(Proposal.id)).all()
    counted = [p for p in proposals if p.result is not None]
    _prefetch_implementation(counted)
    return sorted(counted, key=lambda p: (-p.result.votes, p.id))


def _prefetch_implementation(proposals):
    """Every proposal's implementation updates in one query, read by implementation_list."""
    by_proposal = {p.id: [] for p in proposals}
    if by_proposal:
        for update in db.session.scalars(
                db.select(ImplementationUpdate).where(ImplementationUpdate.proposal_id.in_(by_proposal))
                .order_by(ImplementationUpdate.on_date, ImplementationUpdate.id)):
            by_proposal[update.proposal_id].append(update)
    for p in proposals:
        p._implementation_updates = by_proposal[p.id]


def justification_i18n(conclusion):
    return {lang: (getattr(conclusion, f"justification_{lang}") or None) for lang in LANGUAGES}


def localized_justification(conclusion, lang):
    """(text, language used): the reader's language, else the first other language with text."""
    return texts.localized(justification_i18n(conclusion), lang)


def conclusion_dict(conclusion, lang):
    if conclusion is None:
        return None
    text, used = localized_justification(conclusion, lang)
    return {"decision": conclusion.decision, "justification": text or None,
            "justification_language": used if text else None,
            "justification_i18n": justification_i18n(conclusion),
            "document_number": conclusion.document_number,
            "document_date": conclusion.document_date.isoformat() if conclusion.document_date else None,
            "has_document": conclusion.has_document}


def implementation_list(proposal):
    prefetched = proposal.__dict__.get("_implementation_updates")
    if prefetched is not None:
        return prefetched
    updates = db.session.scalars(
        db.select(ImplementationUpdate).where(ImplementationUpdate.proposal_id == proposal.id)
        .order_by(ImplementationUpdate.on_date, ImplementationUpdate.id)).all()
    return updates


def implementation_dict(update, lang):
    note, used = texts.localized(update.note_i18n, lang)
    return {"status": update.status, "date": update.on_date.isoformat() if update.on_date else None,
            "note": note, "note_language": used if note else None, "note_i18n": update.note_i18n}


def results_document(cycle, lang):
    """The JSON results of a cycle (GET /api/v1/cycles/<id>/results)."""
    proposals = []
    for p in counted_proposals(cycle):
        r = p.result
        proposals.append({
            "id": p.id, "title": p.title, "title_i18n": p.title_i18n, "category": p.category,
            "cost": p.cost, "votes": r.votes, "voters_in_territory": r.voters_in_territory,
            "eligible": r.eligible, "selected": r.selected, "rank": r.rank,
            "price_per_voter": r.price_per_voter,
            "conclusion": conclusion_dict(p.conclusion, lang),
            "implementation": [implementation_dict(u, lang) for u in implementation_list(p)],
        })
    territory = cycle.territory
    return {
        "cycle": cycle.id, "title": cycle.title(lang), "title_i18n": cycle.title_i18n,
        "territory": territory.code, "territory_name": territory.name(lang), "year": cycle.year,
        "phase": cycle.phase,
        "published_at": cycle.published_at.isoformat() if cycle.published_at else None,
        "results_digest": cycle.results_digest,
        "budget": cycle.budget, "rule": cycle.rule, "ballot_style": cycle.ballot_style,
        "min_voters": cycle.min_voters, "voters": cycle.voters_count,
        "voters_by_channel": paper.channel_totals(cycle),
        "population": territory.population,
        "seal": seal_summary(cycle),
        "proposals": proposals,
    }


def seal_summary(cycle):
    """The seal of the cycle's ballots in the results (app.domain.seal made it); None if none."""
    stored = db.session.get(BallotSeal, cycle.id)
    if stored is None:
        return None
    return {"algorithm": stored.algorithm, "root": stored.root, "leaves": stored.leaves}


def digest_payload_from_json(document):
    """The canonical digest input, built only from the JSON results document."""
    proposals = []
    for p in sorted(document["proposals"], key=lambda item: item["id"]):
        c = p.get("conclusion") or {}
        proposals.append({
            "id": p["id"], "title": p["title"], "cost": p["cost"], "votes": p["votes"],
            "eligible": p["eligible"], "selected": p["selected"],
            "decision": c.get("decision"), "justification_i18n": c.get("justification_i18n"),
            "document_number": c.get("document_number"), "document_date": c.get("document_date")})
    payload = {"cycle": document["cycle"], "budget": document["budget"], "rule": document["rule"],
               "min_voters": document["min_voters"], "voters": document["voters"], "proposals": proposals}
    if document.get("seal"):
        payload["seal"] = {"root": document["seal"]["root"], "leaves": document["seal"]["leaves"]}
    return payload


def digest_of_payload(payload):
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_digest(cycle):
    """SHA-256 of the canonical published data (see the module docstring)."""
    return digest_of_payload(digest_payload_from_json(results_document(cycle, "kk")))


CSV_COLUMNS = ["proposal_id", "title", "category", "cost", "votes", "voters_in_territory",
               "eligible", "selected", "rank", "decision", "justification_kk", "justification_ru",
               "justification_en", "document_number", "document_date", "implementation_status",
               "votes_online", "votes_paper"]


CSV_BOM = "\ufeff"
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) in a
# resident's title would become a live link, or worse): OWASP's "CSV injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """A text cell that a spreadsheet would read as a formula gets a leading single quote.

    Only text: numbers (ids, costs, votes, rank) are written as they are and stay numbers. The
    digest is computed from the JSON results, where texts are unchanged; to compare a CSV text
    with them, drop one leading quote from a text that starts with ' and then one of
    FORMULA_STARTS."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def results_csv(cycle):
    """results.csv: one row per admitted proposal, UTF-8 with a byte order mark (without it Excel
    reads the file as ANSI and garbles Cyrillic), comma-separated, header in English; texts that
    would run as spreadsheet formulas are neutralised (see neutralise_cell). The digest is
    computed from the JSON document, never from this file, so neither touches it."""
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    by_channel = paper.votes_by_channel(cycle)
    for p in counted_proposals(cycle):
        channels = by_channel.get(p.id, {})
        r, c = p.result, p.conclusion
        updates = implementation_list(p)
        writer.writerow(neutralise_cell(cell) for cell in [
            p.id, p.title, p.category, p.cost, r.votes, r.voters_in_territory,
            "true" if r.eligible else "false", "true" if r.selected else "false",
            r.rank if r.rank is not None else "", c.decision if c else "",
            c.justification_kk if c else "", c.justification_ru if c else "",
            c.justification_en if c else "", (c.document_number or "") if c else "",
            c.document_date.isoformat() if c and c.document_date else "",
            updates[-1].status if updates else "",
            channels.get(paper.ONLINE, 0), channels.get(paper.PAPER, 0)])
    return out.getvalue()


def recount_command(cycle):
    """The recount of ballots.pb: the file names its rule, minimum and who counts for it."""
    return "python -m app.tally ballots.pb"


def explicit_recount_command(cycle):
    """The same recount with the rule and the minimum spelled out."""
    return (f"python -m app.tally ballots.pb --rule {PABULIB_RULE[cycle.rule][1]} "
            f"--threshold {cycle.min_voters}")


def _anonymous_order(cycle, ballots, key):
    # Voter ids are 1..n in the order of a keyed hash of the ballot's row id: without the
    # server's key the order reveals nothing about who voted when or which account it was.
    key = key.encode("utf-8") if isinstance(key, str) else key

    def keyed(ballot):
        return hmac.new(key, f"qatysu-ballots:{cycle.id}:{ballot.id}".encode(), hashlib.sha256).digest()

    return sorted(ballots, key=keyed)


def ballots_pb(cycle, key):
    """The anonymised ballots of a counted cycle in the Pabulib format, written by the engine.

    Projects are the admitted proposals that were counted (project_id = proposal id); votes
    carry no account id and no receipt. Every stored ballot is a vote, as in the count; the
    column `in_territory` is 1 for a voter whose home was inside the cycle's territory, and META
    `threshold_scope` says that only those count for the minimum (`min_project_score_threshold`),
    exactly as counting.compute_count does. Recount with `recount_command(cycle)`."""
    from app.domain.counting import counts_for_minimum
    from app.tally import Ballot as PbBallot
    from app.tally import Election, Project, write

    proposals = sorted(counted_proposals(cycle), key=lambda p: p.id)
    known = {p.id for p in proposals}
    projects = [Project(id=str(p.id), cost=p.cost, name=p.title, extra={
        "votes": str(p.result.votes), "category": p.category,
        "selected": "1" if p.result.selected else "0"}) for p in proposals]
    ballots = db.session.scalars(db.select(Ballot).where(Ballot.cycle_id == cycle.id).options(
        selectinload(Ballot.items), selectinload(Ballot.territory))).all()
    votes = []
    for number, ballot in enumerate(_anonymous_order(cycle, ballots, key), start=1):
        chosen = [str(item.proposal_id) for item in ballot.items if item.proposal_id in known]
        inside = "1" if counts_for_minimum(cycle, ballot.territory.path) else "0"
        votes.append(PbBallot(projects=chosen, voter_id=str(number),
                              extra={"channel": ballot.channel, "in_territory": inside}))
    territory = cycle.territory
    single = cycle.ballot_style == BallotStyle.SINGLE.value
    meta = {
        "description": f"Qatysu participatory budget: {cycle.title_en or cycle.title_ru or cycle.title_kk}",
        "country": "Kazakhstan",
        "unit": territory.name_en or territory.name_ru,
        "subunit": territory.code,
        "instance": f"{cycle.year}/cycle-{cycle.id}",
        "rule": PABULIB_RULE[cycle.rule][0],
        "min_project_score_threshold": str(cycle.min_voters),
        "threshold_scope": "in_territory",
        "currency": "KZT",
        "language": "kk, ru, en",
        "ballot_style": cycle.ballot_style,
        "comment": (f"Recount: {recount_command(cycle)} (the same as {explicit_recount_command(cycle)}). "
                    "Only votes with in_territory=1 (voters living in the territory) count for "
                    "the minimum of min_project_score_threshold voters (META threshold_scope)."),
    }
    for channel, count in paper.channel_totals(cycle).items():  # VOTES says each ballot's channel
        meta[f"num_votes_{channel}"] = str(count)
    if cycle.ballot_style == BallotStyle.APPROVAL.value and cycle.max_choices:
        meta["max_length"] = str(cycle.max_choices)
    if cycle.ballot_style == BallotStyle.KNAPSACK.value:
        meta["max_sum_cost"] = str(cycle.budget)
    if cycle.voting_open:
        meta["date_begin"] = cycle.voting_open.strftime("%d.%m.%Y")
    if cycle.voting_close:
        meta["date_end"] = cycle.voting_close.strftime("%d.%m.%Y")
    election = Election(projects=projects, ballots=votes, budget=cycle.budget,
                        vote_type="choose-1" if single else "approval", meta=meta)
    election.project_columns = ["project_id", "cost", "votes", "name", "category", "selected"]
    return write(election)


def proposal_outcome(proposal, lang):
    """A counted proposal's line of the results, for its own page: votes, the minimum and
    whether it was reached, selection, and the akimat's conclusion in `lang` (with the language
    actually used). None when the proposal was not counted. Callers check who may see counts."""
    r = proposal.result
    if r is None:
        return None
    return {"votes": r.votes, "voters_in_territory": r.voters_in_territory, "eligible": r.eligible,
            "selected": r.selected, "min_voters": proposal.cycle.min_voters,
            "conclusion": conclusion_dict(proposal.conclusion, lang)}
