from datetime import date

import pytest

from app.domain.errors import DomainError
from app.domain.iin import birth_date, check_digit, iin_digest, make_iin, validate_adult_iin

TODAY = date(2026, 11, 22)


def with_check_digit(head):
    return head + str(check_digit(head))


def test_known_valid_iin():
    # 900517 (17 May 1990), century digit 3 (a man born in the 1900s), serial 0001.
    iin = with_check_digit("90051730000")
    assert validate_adult_iin(iin, today=TODAY) == iin
    assert birth_date(iin) == date(1990, 5, 17)


def test_check_digit_first_pass():
    # 1*8 + 2*9 + 3*0 + 4*5 + 5*0 + 6*1 + 7*3 + 8*0 + 9*0 + 10*0 + 11*1 = 84; 84 % 11 = 7
    assert check_digit("89050130001") == 7


def test_check_digit_second_pass_used_when_first_gives_ten():
    heads = [f"9005173{n:04d}" for n in range(10000)]
    first_ten = [h for h in heads
                 if sum(w * int(d) for w, d in zip(range(1, 12), h)) % 11 == 10]
    assert first_ten, "some serials need the second pass"
    head = first_ten[0]
    second = sum(w * int(d) for w, d in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), head)) % 11
    assert check_digit(head) == (None if second == 10 else second)


@pytest.mark.parametrize("raw, code", [
    ("", "iin_required"),
    ("12345", "iin_format"),
    ("9005173000１2", "iin_format"),  # a full-width digit is not a digit here
    ("90051730000a", "iin_format"),
    ("901317300001", "iin_birth_date"),  # month 13
    ("900517900001", "iin_birth_date"),  # century digit 9
])
def test_malformed_iins(raw, code):
    with pytest.raises(DomainError) as info:
        validate_adult_iin(raw, today=TODAY)
    assert info.value.code == code
    assert info.value.field == "iin"


def test_wrong_check_digit():
    iin = with_check_digit("90051730000")
    wrong = iin[:11] + str((int(iin[11]) + 1) % 10)
    with pytest.raises(DomainError) as info:
        validate_adult_iin(wrong, today=TODAY)
    assert info.value.code == "iin_check_digit"


def test_century_from_the_seventh_digit():
    assert birth_date(make_iin(date(2001, 2, 3))).year == 2001
    assert birth_date(make_iin(date(1899, 12, 31))).year == 1899
    assert birth_date(make_iin(date(1960, 1, 1), sex="female")) == date(1960, 1, 1)


def test_age_limit_is_the_eighteenth_birthday():
    turning_18_tomorrow = make_iin(date(2008, 11, 23))
    turning_18_today = make_iin(date(2008, 11, 22))
    with pytest.raises(DomainError) as info:
        validate_adult_iin(turning_18_tomorrow, today=TODAY)
    assert info.value.code == "iin_under_age"
    assert validate_adult_iin(turning_18_today, today=TODAY) == turning_18_today


def test_future_birth_date_is_invalid():
    with pytest.raises(DomainError) as info:
        validate_adult_iin(make_iin(date(2027, 1, 1)), today=TODAY)
    assert info.value.code == "iin_birth_date"


def test_spaces_and_dashes_are_forgiven():
    iin = with_check_digit("90051730000")
    assert validate_adult_iin(f"{iin[:6]} {iin[6:]}", today=TODAY) == iin
    assert validate_adult_iin(f"{iin[:6]}-{iin[6:]}", today=TODAY) == iin


def test_digest_is_keyed_and_hides_the_iin():
    iin = with_check_digit("90051730000")
    a, b = iin_digest(iin, "key-one"), iin_digest(iin, "key-two")
    assert a != b and len(a) == 64 and iin not in a
