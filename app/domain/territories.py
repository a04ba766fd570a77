"""Territories: the KATO import and questions of who lives inside what."""
import csv
import io

from sqlalchemy import select

from app.domain.errors import DomainError, Np_
from app.extensions import db
from app.models import Territory, TerritoryLevel

COLUMNS = ("code", "parent", "level", "name_kk", "name_ru", "name_en")
LEVELS = {level.value for level in TerritoryLevel}


class ImportFailed(DomainError):
    def __init__(self, problems):
        super().__init__("import_failed", Np_("The file was not imported: %(n)s row has errors.",
                                              "The file was not imported: %(n)s rows have errors."),
                         n=len(problems))
        self.problems = problems  # [(line number, message)]


def parse_kato_csv(text):
    """(rows, problems) of the import format; problems are (line number, message), 1-based."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([(1, f"missing columns: {', '.join(missing)}")])
    rows, problems, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        if None in raw:
            problems.append((line, "too many fields"))
            continue
        code, parent = row["code"], row["parent"]
        if len(code) != 9 or not code.isdigit():
            problems.append((line, f"code {code!r} is not 9 digits"))
        elif code in seen:
            problems.append((line, f"code {code} repeats line {seen[code]}"))
        else:
            seen[code] = line
        if parent and (len(parent) != 9 or not parent.isdigit()):
            problems.append((line, f"parent {parent!r} is not 9 digits"))
        if parent and parent == code:
            problems.append((line, "a unit cannot be its own parent"))
        if row["level"] not in LEVELS:
            problems.append((line, f"level {row['level']!r} is not one of {', '.join(sorted(LEVELS))}"))
        for name in ("name_kk", "name_ru", "name_en"):
            if not row[name]:
                problems.append((line, f"{name} is empty"))
            elif len(row[name]) > 200:
                problems.append((line, f"{name} is longer than 200 characters"))
        rows.append((line, row))
    return rows, problems


def import_territories(text):
    """Upsert units from KATO CSV text. All or nothing: any bad row and nothing changes.

    Returns (created, updated)."""
    rows, problems = parse_kato_csv(text)
    existing = {t.code: t for t in db.session.scalars(select(Territory))}
    by_id = {t.id: t for t in existing.values()}
    parent_of = {t.code: (by_id[t.parent_id].code if t.parent_id else "") for t in existing.values()}
    by_code = {row["code"]: row for _, row in rows}
    parent_of.update({code: row["parent"] for code, row in by_code.items()})
    for line, row in rows:
        parent = row["parent"]
        if parent and len(parent) == 9 and parent not in by_code and parent not in existing:
            problems.append((line, f"parent {parent} is neither in the file nor in the database"))
    # A cycle would make paths infinite; walk each chain once to catch it.
    for line, row in rows:
        seen, code = set(), row["code"]
        while code and code not in seen:
            seen.add(code)
            code = parent_of.get(code, "")
        if code:
            problems.append((line, f"parent chain of {row['code']} loops"))
    if problems:
        raise ImportFailed(sorted(set(problems)))

    created = updated = 0
    units = dict(existing)
    for _, row in rows:
        unit = units.get(row["code"])
        if unit is None:
            unit = Territory(code=row["code"], path="")
            db.session.add(unit)
            units[row["code"]] = unit
            created += 1
        else:
            updated += 1
        unit.level = row["level"]
        unit.name_kk, unit.name_ru, unit.name_en = row["name_kk"], row["name_ru"], row["name_en"]
    for _, row in rows:
        units[row["code"]].parent = units[row["parent"]] if row["parent"] else None
    db.session.flush()
    _rebuild_paths(units.values())
    db.session.flush()
    return created, updated


def _rebuild_paths(units):
    paths = {}

    def path_of(unit):
        if unit.code not in paths:
            paths[unit.code] = (path_of(unit.parent) if unit.parent else "") + unit.code + "/"
        return paths[unit.code]

    for unit in units:
        unit.path = path_of(unit)


def units_inside(territory):
    """Ids of the unit and every unit inside it."""
    return select(Territory.id).where(Territory.path.startswith(territory.path))


def is_resident_of(user, territory):
    """A resident of a territory: their home unit is that territory or any unit inside it."""
    return user is not None and user.territory is not None and territory.contains(user.territory)
