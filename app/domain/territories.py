"""Territories: the KATO import, questions of who lives inside what, and where a unit lies.

The import reads `code,parent,level,name_kk,name_ru,name_en` and, optionally, a bounding box per
unit in four more columns `min_lat,min_lon,max_lat,max_lon` (WGS 84 degrees). A file without
those columns leaves the boxes already stored as they are; in a file with them, a row whose four
cells are empty has no box (the box is unknown, and proposals' places there are not checked).
"""
import csv
import io
import math

from sqlalchemy import select

from app.domain.errors import DomainError, Np_
from app.extensions import db
from app.models import Territory, TerritoryLevel

COLUMNS = ("code", "parent", "level", "name_kk", "name_ru", "name_en")
BOX_COLUMNS = ("min_lat", "min_lon", "max_lat", "max_lon")
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
    header = reader.fieldnames or []
    with_box = any(c in header for c in BOX_COLUMNS)
    expected = COLUMNS + (BOX_COLUMNS if with_box else ())
    missing = [c for c in expected if c not in header]
    if missing:
        raise ImportFailed([(1, f"missing columns: {', '.join(missing)}")])
    rows, problems, seen = [], [], {}
    for line, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in expected}
        if None in raw:
            problems.append((line, "too many fields"))
            continue
        _check_codes(row, line, problems, seen)
        if row["level"] not in LEVELS:
            problems.append((line, f"level {row['level']!r} is not one of {', '.join(sorted(LEVELS))}"))
        for name in ("name_kk", "name_ru", "name_en"):
            if not row[name]:
                problems.append((line, f"{name} is empty"))
            elif len(row[name]) > 200:
                problems.append((line, f"{name} is longer than 200 characters"))
        if with_box:
            row["box"] = _parse_box(row, line, problems)
        rows.append((line, row))
    return rows, problems


def _check_codes(row, line, problems, seen):
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


def _parse_box(row, line, problems):
    """The row's (min_lat, min_lon, max_lat, max_lon), None for four empty cells; a problem
    is noted for anything else."""
    cells = [row[c] for c in BOX_COLUMNS]
    if not any(cells):
        return None
    if not all(cells):
        problems.append((line, "give all four of min_lat, min_lon, max_lat, max_lon, or none"))
        return None
    try:
        min_lat, min_lon, max_lat, max_lon = (float(c) for c in cells)
    except ValueError:
        problems.append((line, "the bounding box must be four numbers (degrees, a dot for decimals)"))
        return None
    if not all(math.isfinite(v) for v in (min_lat, min_lon, max_lat, max_lon)):
        problems.append((line, "the bounding box must be four finite numbers"))
    elif not (-90 <= min_lat < max_lat <= 90):
        problems.append((line, "latitudes must satisfy -90 <= min_lat < max_lat <= 90"))
    elif not (-180 <= min_lon < max_lon <= 180):
        # Kazakhstan is far from the 180th meridian: a box across it is a typo, not a unit.
        problems.append((line, "longitudes must satisfy -180 <= min_lon < max_lon <= 180"))
    else:
        return (min_lat, min_lon, max_lat, max_lon)
    return None


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
        if "box" in row:
            unit.min_lat, unit.min_lon, unit.max_lat, unit.max_lon = row["box"] or (None,) * 4
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


def bounding_box(territory):
    """(unit, box) of the box a place in this unit must fall within: the unit's own, else the
    nearest enclosing unit's that has one (a village without a box is still inside its
    district); (None, None) when no unit up the chain has one."""
    unit = territory
    while unit is not None:
        if unit.box is not None:
            return unit, unit.box
        unit = unit.parent
    return None, None


def box_contains(box, latitude, longitude):
    min_lat, min_lon, max_lat, max_lon = box
    return min_lat <= latitude <= max_lat and min_lon <= longitude <= max_lon


def is_resident_of(user, territory):
    """A resident of a territory: their home unit is that territory or any unit inside it."""
    return user is not None and user.territory is not None and territory.contains(user.territory)
