"""Operator commands: `flask --app wsgi translate|territories|users|demo …`."""
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain import accounts
from app.domain.errors import DomainError, english
from app.domain.territories import ImportFailed, import_territories
from app.extensions import cache, db

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"

# Keywords that mark messages: lazy forms for labels, N_/Np_ for the Flask-free domain.
EXTRACT_ARGS = ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_ngettext:1,2", "-k", "N_",
                "-k", "Np_:1,2", "--no-location", "--sort-output", "--omit-header"]

translate_cli = AppGroup("translate", help="Extract, update and compile the message catalogues.")
territories_cli = AppGroup("territories", help="Administrative-territorial units (KATO).")
users_cli = AppGroup("users", help="Staff and administrator accounts.")
residents_cli = AppGroup("residents", help="The akimat's register of residents.")
demo_cli = AppGroup("demo", help="Demonstration data.")
cycles_cli = AppGroup("cycles", help="Budget cycles: reminders for the staff.")
files_cli = AppGroup("files", help="Uploaded files (stored in the database).")
jobs_cli = AppGroup("jobs", help="Background jobs (RQ on Redis): the count at close, mail.")


def _pybabel(*args):
    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT)
    if result.returncode:
        raise click.ClickException(f"pybabel {args[0]} failed")


@translate_cli.command("extract")
def translate_extract():
    """Write translations/messages.pot from the code and templates."""
    _pybabel(*EXTRACT_ARGS, "-o", str(POT), "app")


@translate_cli.command("update")
def translate_update():
    """Extract, then merge new messages into every catalogue."""
    translate_extract.callback()
    _pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
             "--ignore-obsolete")


@translate_cli.command("fill")
@click.argument("json_files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def translate_fill(json_files):
    """Fill kk and ru catalogues from JSON files of translations ({msgid: {kk, ru}})."""
    import json

    from babel.messages.pofile import read_po, write_po

    wanted = {}
    for name in json_files:
        wanted.update(json.loads(Path(name).read_text(encoding="utf-8")))
    for lang in ("kk", "ru"):
        po_path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        with open(po_path, "rb") as f:
            catalog = read_po(f, locale=lang)
        filled = 0
        for message in catalog:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            entry = wanted.get(key)
            if not key or not entry or lang not in entry:
                continue
            text = entry[lang]
            message.string = tuple(text) if message.pluralizable else text
            message.flags.discard("fuzzy")
            filled += 1
        with open(po_path, "wb") as f:
            write_po(f, catalog, width=100, omit_header=False)
        click.echo(f"{lang}: {filled} messages filled")


@translate_cli.command("compile")
def translate_compile():
    """Compile the catalogues to .mo files (built, never committed)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


@territories_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def territories_import(csv_file):
    """Upsert units from a CSV in the KATO import format (all or nothing)."""
    text = Path(csv_file).read_text(encoding="utf-8")
    try:
        created, updated = import_territories(text)
    except ImportFailed as error:
        db.session.rollback()
        for line, problem in error.problems[:200]:
            click.echo(f"line {line}: {problem}", err=True)
        if len(error.problems) > 200:
            click.echo(f"… and {len(error.problems) - 200} more", err=True)
        raise click.ClickException(f"nothing imported: {len(error.problems)} problems in {csv_file}")
    db.session.commit()
    cache.clear()
    click.echo(f"{created} units created, {updated} updated")


@residents_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def residents_import(csv_file):
    """Import the akimat's register of residents (columns iin,kato; all or nothing). IINs are
    hashed on import and never stored; matching accounts become verified residents."""
    from app.domain.residence import ImportFailed as RegisterImportFailed
    from app.domain.residence import import_register

    text = Path(csv_file).read_text(encoding="utf-8-sig")
    try:
        rows, verified = import_register(text, current_app.config["IIN_HMAC_KEY"])
    except RegisterImportFailed as error:
        db.session.rollback()
        for line, problem in error.problems[:200]:
            click.echo(f"line {line}: {problem}", err=True)
        raise click.ClickException(f"nothing imported: {len(error.problems)} problems in {csv_file}")
    db.session.commit()
    click.echo(f"{rows} residents in the register; {verified} accounts verified")


@users_cli.command("create-staff")
@click.option("--iin", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--territory", "territory_code", required=True, help="KATO code of the unit")
@click.option("--password", required=True, help="At least 10 characters")
@click.option("--admin", is_flag=True, help="An administrator rather than territory staff")
@click.option("--email", default=None, help="Where the staff member is told when a cycle needs them")
@click.option("--locale", type=click.Choice(["kk", "ru", "en"]), default=None, help="Language of those emails")
def users_create_staff(iin, full_name, territory_code, password, admin, email, locale):
    """Create a staff account scoped to a territory (and the units inside it)."""
    try:
        user = accounts.create_staff(iin=iin, full_name=full_name, territory_code=territory_code,
                                     password=password, admin=admin,
                                     iin_key=current_app.config["IIN_HMAC_KEY"])
        user.email = email or user.email
        user.locale = locale or user.locale
    except DomainError as error:
        db.session.rollback()
        for name, messages in error.fields.items():
            for message, params in messages:
                click.echo(f"{name}: {english(message, params)}", err=True)
        raise click.ClickException(str(error))
    db.session.commit()
    click.echo(f"{user.role} account {user.id} for {user.full_name} ({user.territory.code})")


@users_cli.command("reset-second-factor")
@click.option("--iin", required=True)
def users_reset_second_factor(iin):
    """Forget a staff member's authenticator app and recovery codes (a lost phone, after
    checking who asks): they set up a new one at their next login with a password."""
    from app.domain import second_factor

    user = accounts.find_user_by_iin(iin, current_app.config["IIN_HMAC_KEY"])
    if user is None:
        raise click.ClickException("no account has this IIN")
    second_factor.reset(user)
    accounts.sign_out_everywhere(user)
    db.session.commit()
    click.echo(f"second factor reset for account {user.id}; its sessions and tokens have ended")


@demo_cli.command("seed")
def demo_seed():
    """Load the demonstration data (territories, accounts, cycles in every phase)."""
    from app import jobs
    from app.demo import seed

    # A hundred demo voters: real hashing costs apply at their login. Counts inline: the seed
    # writes conclusions on the cycle it has just closed.
    with accounts.cheap_hashing(), jobs.inline():
        lines = seed()
    for line in lines:
        click.echo(line)


@cycles_cli.command("notify-due")
def cycles_notify_due():
    """Email the staff about revision deadlines that have passed (run from cron, e.g. hourly).

    Each passed deadline is reported once (recorded in the audit log)."""
    from app import notifications
    from app.domain import console

    proposals = console.overdue_revisions()
    for proposal in proposals:
        console.mark_reported(proposal)
    db.session.commit()
    sent = sum(notifications.notify_revision_overdue(p) for p in proposals)
    click.echo(f"{len(proposals)} passed revision deadlines reported, {sent} emails sent")


@files_cli.command("import-disk")
@click.option("--upload-dir", type=click.Path(file_okay=False), default=None,
              help="Where photos and PDFs were written before (default: UPLOAD_DIR)")
def files_import_disk(upload_dir):
    """Copy photos and signed PDFs still on disk into the database (idempotent; the files on
    disk are left for you to delete once every app server serves from the database)."""
    from app.domain import files

    folder = upload_dir or current_app.config["UPLOAD_DIR"]
    imported, missing = files.import_disk(folder)
    db.session.commit()
    for name in missing[:200]:
        click.echo(f"missing on disk: {name}", err=True)
    click.echo(f"{imported} files imported from {folder}; {len(missing)} missing")
    if missing:
        raise SystemExit(1)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty")
def jobs_worker(burst):
    """Run jobs from the queue at JOBS_REDIS_URL (or REDIS_URL); Ctrl-C stops after the current one."""
    from flask import current_app

    from app.jobs import run_worker

    try:
        run_worker(current_app._get_current_object(), burst=burst)
    except RuntimeError as error:
        raise click.ClickException(str(error))


def register_commands(app):
    for group in (translate_cli, territories_cli, users_cli, residents_cli, demo_cli, cycles_cli,
                  files_cli, jobs_cli):
        app.cli.add_command(group)
