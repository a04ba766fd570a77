"""Reading form text into the values the domain checks: numbers, coordinates, local times.

Text that does not parse passes through unchanged, so the domain names what is wrong with it
in the field's own error."""
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Almaty")


def parse_int(value):
    """An int from a form's text, or the text itself (the domain then says what is wrong)."""
    text = (value or "").replace(" ", "").replace("\u00a0", "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def parse_float(value):
    text = (value or "").replace(",", ".").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def parse_local_datetime(value):
    """A datetime-local input (Almaty time) as an aware UTC datetime; bad text passes through."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    return text


def local_input(moment):
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if moment else ""
