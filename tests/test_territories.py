import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Territory
from tests.helpers import KATO_DEMO, SHARED

HEADER = "code,parent,level,name_kk,name_ru,name_en\n"


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Territory.id)))


def test_import_demo_file(app, runner, tmp_path):
    result = runner.invoke(args=["territories", "import", str(KATO_DEMO)])
    assert result.exit_code == 0, result.output
    assert "70 units created" in result.output
    with app.app_context():
        village = db.session.scalar(select(Territory).where(Territory.code == "195231100"))
        assert village.path == "190000000/195200000/195231000/195231100/"
        assert village.parent.parent.name_en == "Karasay District"


def test_reimport_updates_names(app, runner, tmp_path):
    runner.invoke(args=["territories", "import", str(KATO_DEMO)])
    changed = tmp_path / "changed.csv"
    changed.write_text(HEADER + "750000000,,city,Алматы,Алматы,Almaty City\n", encoding="utf-8")
    result = runner.invoke(args=["territories", "import", str(changed)])
    assert result.exit_code == 0 and "0 units created, 1 updated" in result.output
    with app.app_context():
        assert db.session.scalar(select(Territory.name_en).where(Territory.code == "750000000")) == "Almaty City"
    assert count(app) == 70


def test_bad_rows_import_nothing_and_are_named(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER
                   + "750000000,,city,Алматы қ.,г.Алматы,Almaty\n"
                   + "75111000,750000000,district,A,B,C\n"          # 8 digits
                   + "751210000,750000000,county,A,B,C\n"           # unknown level
                   + "751310000,123456789,district,A,B,C\n"         # unknown parent
                   + "751410000,750000000,district,,B,C\n",         # empty name
                   encoding="utf-8")
    result = runner.invoke(args=["territories", "import", str(bad)])
    assert result.exit_code != 0
    for line in ("line 3", "line 4", "line 5", "line 6"):
        assert line in result.output
    assert "line 2:" not in result.output
    assert count(app) == 0


def test_missing_columns(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n1,2\n", encoding="utf-8")
    result = runner.invoke(args=["territories", "import", str(bad)])
    assert result.exit_code != 0 and "missing columns" in result.output


@pytest.mark.slow  # a real-data run: seconds, not milliseconds
def test_whole_country_imports(app, runner):
    kato = SHARED / "kato" / "kato.csv"
    result = runner.invoke(args=["territories", "import", str(kato)])
    assert result.exit_code == 0, result.output
    assert count(app) == 15594


def test_create_staff_command(new_iin, app, runner, territories):

    result = runner.invoke(args=["users", "create-staff", "--iin", new_iin(), "--name", "Staff One",
                                 "--territory", "750000000", "--password", "long-enough-pass"])
    assert result.exit_code == 0, result.output
    assert "staff account" in result.output
    result = runner.invoke(args=["users", "create-staff", "--iin", "123", "--name", "X",
                                 "--territory", "000000000", "--password", "short"])
    assert result.exit_code != 0
    assert "iin:" in result.output and "territory:" in result.output and "password:" in result.output
