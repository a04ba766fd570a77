"""Create resident accounts in the browser tests' demo database (DemoServer.make_residents).

    python tests/e2e/make_residents.py TERRITORY_CODE COUNT FIRST

Runs with the server's environment (DATABASE_URL, …); prints "full name<TAB>IIN<TAB>API token"
per account. Numbers FIRST… pick the IINs (app.demo.demo_iin), so callers keep their ranges
apart. Passwords are hashed cheaply (upgraded at their first login, as the demo's bulk accounts
are) and the tokens are issued here: the server spends no argon2 time on these accounts.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app  # noqa: E402
from app.demo import DEMO_PASSWORD, demo_iin  # noqa: E402
from app.domain import accounts  # noqa: E402
from app.extensions import db  # noqa: E402

# Made-up names, as the demo's: a resident is a person on the page, not "user 7".
NAMES = ["Айдос Бекенов", "Жанар Омарова", "Олег Смирнов", "Айгерим Касымова", "Нурлан Абенов",
         "Светлана Ли", "Ерлан Сулейменов", "Камила Жумабаева", "Даурен Искаков", "Мария Ковалёва",
         "Тимур Ахметов", "Алия Нуриева"]


def _resident(iin_key, n, name, territory):
    user = accounts.register_resident(iin=demo_iin(n, year=1990), full_name=name, territory_code=territory,
                                      password=DEMO_PASSWORD, locale="ru", iin_key=iin_key)
    token, _expires = accounts.issue_token(user, hours=2)
    return name, demo_iin(n, year=1990), token


def main(territory, count, first):
    app = create_app()
    with app.app_context(), accounts.cheap_hashing():
        made = [_resident(app.config["IIN_HMAC_KEY"], n, NAMES[i % len(NAMES)], territory)
                for i, n in enumerate(range(first, first + count))]
        db.session.commit()
    for name, iin, token in made:
        print(f"{name}\t{iin}\t{token}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
