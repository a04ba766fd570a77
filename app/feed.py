"""Atom feed (RFC 4287) of published results: overall, or for one unit and the units inside."""
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.i18n import LANGUAGES, select_locale
from app.models import Cycle, Phase, Territory
from app.templating import format_tenge, number
from app.web import public_url

ATOM = "http://www.w3.org/2005/Atom"


def _sub(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def published_cycles(territory=None):
    query = (select(Cycle).join(Territory).where(Cycle.phase == Phase.PUBLISHED.value)
             .order_by(Cycle.published_at.desc(), Cycle.id.desc()))
    if territory is not None:
        query = query.where(Territory.path.startswith(territory.path))
    return db.session.scalars(query).all()


def atom(territory=None, lang=None):
    lang = lang if lang in LANGUAGES else select_locale()
    with force_locale(lang):
        return _atom(territory, lang)


def _atom(territory, lang):
    ET.register_namespace("", ATOM)
    cycles = published_cycles(territory)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    base = public_url()  # from configuration: a forged Host header must not reach the feed
    if territory is None:
        _sub(root, "title", _("Qatysu: published participatory budget results"))
        _sub(root, "id", f"{base}/feed.atom")
        _sub(root, "link", rel="self", href=f"{base}/feed.atom")
    else:
        _sub(root, "title", _("Published results: %(unit)s", unit=territory.name(lang)))
        _sub(root, "id", f"{base}/territories/{territory.code}/feed.atom")
        _sub(root, "link", rel="self", href=f"{base}/territories/{territory.code}/feed.atom")
    updated = max((c.published_at for c in cycles), default=datetime(2020, 1, 1, tzinfo=timezone.utc))
    _sub(root, "updated", updated.isoformat())
    author = _sub(root, "author")
    _sub(author, "name", "Qatysu")
    for cycle in cycles:
        entry = _sub(root, "entry")
        _sub(entry, "title", f"{cycle.title(lang)} — {cycle.territory.name(lang)}, {cycle.year}")
        _sub(entry, "id", f"tag:qatysu,{cycle.published_at.date().isoformat()}:cycle-{cycle.id}")
        _sub(entry, "updated", cycle.published_at.isoformat())
        _sub(entry, "published", cycle.published_at.isoformat())
        page = base + url_for("results.cycle_results", cycle_id=cycle.id, lang_code=lang)
        _sub(entry, "link", rel="alternate", type="text/html", href=page)
        _sub(entry, "link", rel="enclosure", type="text/csv",
             href=f"{base}/cycles/{cycle.id}/results.csv")
        _sub(entry, "link", rel="related", type="application/json",
             href=f"{base}/api/v1/cycles/{cycle.id}/results")
        _sub(entry, "category", term=cycle.territory.code, label=cycle.territory.name(lang))
        approved = sum(1 for p in cycle.proposals if p.conclusion and p.conclusion.decision == "approved")
        _sub(entry, "summary", _("Budget: %(budget)s. Voters: %(voters)s. Approved for "
                                 "implementation: %(approved)s. Checksum (SHA-256): %(digest)s",
                                 budget=format_tenge(cycle.budget), voters=number(cycle.voters_count or 0),
                                 approved=number(approved), digest=cycle.results_digest))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
