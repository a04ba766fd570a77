"""Create resident accounts in the browser tests' demo database (DemoServer.make_residents).

    python tests/e2e/make_residents.py TERRITORY_CODE COUNT FIRST [EMAIL]

Runs with the server's environment (DATABASE_URL, …); prints "full name<TAB>IIN" per account.
Numbers FIRST… pick the IINs (app.demo.demo_iin), so callers keep their ranges apart. With
EMAIL ("name@example.kz"), account n gets "name+n@example.kz".
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


def main(territory, count, first, email):
    app = create_app()
    with app.app_context():
        made = []
        for n in range(first, first + count):
            name = NAMES[(n - first) % len(NAMES)]
            iin = demo_iin(n, year=1990)
            address = email.replace("@", f"+{n}@") if email else None
            accounts.register_resident(iin=iin, full_name=name, territory_code=territory,
                                       password=DEMO_PASSWORD, email=address, locale="ru",
                                       iin_key=app.config["IIN_HMAC_KEY"])
            made.append((name, iin))
        db.session.commit()
    for name, iin in made:
        print(f"{name}\t{iin}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
