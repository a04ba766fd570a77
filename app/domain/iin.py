"""The Kazakh individual identification number (IIN / ЖСН / ИИН).

Layout: YYMMDD (date of birth), one digit for century and sex, four digits of registration
number, and a check digit. The check digit is the weighted sum of the first eleven digits
modulo 11 with weights 1..11; where that gives 10, a second pass with weights 3..11,1,2 is
used; where that gives 10 again, no IIN is issued with those digits.
"""
import hashlib
import hmac
from datetime import date

from app.domain.errors import N_, DomainError

FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
CENTURY_BY_DIGIT = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
ADULT_AGE = 18


class InvalidIIN(DomainError):
    def __init__(self, code, message):
        super().__init__(code, message, field="iin")


def check_digit(first_eleven):
    digits = [int(c) for c in first_eleven]
    remainder = sum(w * d for w, d in zip(FIRST_WEIGHTS, digits)) % 11
    if remainder == 10:
        remainder = sum(w * d for w, d in zip(SECOND_WEIGHTS, digits)) % 11
    return None if remainder == 10 else remainder


def birth_date(iin):
    century = CENTURY_BY_DIGIT.get(int(iin[6]))
    if century is None:
        return None
    try:
        return date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def normalise(raw):
    """Strip the spaces and dashes people type; nothing else is forgiven."""
    return "".join(ch for ch in (raw or "") if ch not in " -\u00a0")


def validate_adult_iin(raw, today=None):
    """Return the normalised IIN of an adult, or raise InvalidIIN saying what is wrong."""
    iin = normalise(raw)
    if not iin:
        raise InvalidIIN("iin_required", N_("Enter your IIN."))
    if len(iin) != 12 or not iin.isascii() or not iin.isdigit():
        raise InvalidIIN("iin_format", N_("An IIN has exactly 12 digits."))
    born = birth_date(iin)
    if born is None:
        raise InvalidIIN("iin_birth_date", N_("This IIN does not begin with a valid date of birth."))
    if check_digit(iin[:11]) != int(iin[11]):
        raise InvalidIIN("iin_check_digit", N_("This IIN is not valid: its check digit does not match."))
    today = today or date.today()
    if born > today:
        raise InvalidIIN("iin_birth_date", N_("This IIN does not begin with a valid date of birth."))
    if age_on(born, today) < ADULT_AGE:
        raise InvalidIIN("iin_under_age", N_("Only adults (18 and over) can take part."))
    return iin


def iin_digest(iin, key):
    """Keyed hash of a normalised IIN: the only form in which an IIN is stored."""
    return hmac.new(key.encode(), iin.encode(), hashlib.sha256).hexdigest()


def make_iin(born, serial="0000", sex="male"):
    """Build a valid IIN for a date of birth (tests and demo data); tries serials until one
    has a check digit."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100] + (sex == "female")
    start = int(serial)
    for n in range(start, start + 10000):
        head = f"{born:%y%m%d}{century_digit}{n % 10000:04d}"
        digit = check_digit(head)
        if digit is not None:
            return head + str(digit)
    raise ValueError("no IIN available")
