"""`flask cycles recount ID`: recompute a stored count from the ballots and compare;
`flask cycles verify ID`: the seal, the count and the published checksum, all recomputed."""
import click
from flask.cli import AppGroup, with_appcontext

from app.domain import counting, seal, voting
from app.domain.errors import DomainError

cycles_cli = AppGroup("cycles", help="Budget cycles.")


def _cycle(cycle_id):
    try:
        return voting.get_cycle(cycle_id)
    except DomainError as error:
        raise click.ClickException(str(error))


def _fail_on(differences, summary):
    """Each difference on stderr, then the summary and exit 1; nothing when there are none."""
    if differences:
        for line in differences:
            click.echo(line, err=True)
        raise click.ClickException(summary)


@click.command("recount")
@click.argument("cycle_id", type=int)
@with_appcontext
def recount_command(cycle_id):
    """Recount a cycle's ballots and compare with the stored result (exit 1 on any difference)."""
    cycle = _cycle(cycle_id)
    differences = counting.recount(cycle)
    _fail_on(differences, f"cycle {cycle_id}: the stored count differs from a recount "
                          f"({len(differences)} differences)")
    click.echo(f"cycle {cycle_id}: the stored count matches a recount of {cycle.voters_count} ballots")


@click.command("verify")
@click.argument("cycle_id", type=int)
@with_appcontext
def verify_command(cycle_id):
    """Recompute the seal of the ballots, the count and the published checksum from the database
    and compare with what is stored (exit 1 on any difference)."""
    cycle = _cycle(cycle_id)
    differences = seal.verify_cycle(cycle)
    _fail_on(differences, f"cycle {cycle_id}: {len(differences)} differences between the "
                          f"database and what was sealed, counted or published")
    stored = seal.get_seal(cycle)
    click.echo(f"cycle {cycle_id}: "
               + (f"the seal ({stored.leaves} ballots, root {stored.root}) matches the ballots; "
                  if stored else "not sealed yet; ")
               + ("the count matches a recount; " if cycle.counted_at else "not counted yet; ")
               + ("the published checksum matches" if cycle.results_digest else "not published yet"))


cycles_cli.add_command(recount_command)
cycles_cli.add_command(verify_command)


def register_cli(app):
    """Add `recount` to the `cycles` group, whoever registered that group first."""
    existing = app.cli.commands.get("cycles")
    if isinstance(existing, click.Group):
        existing.add_command(recount_command)
        existing.add_command(verify_command)
    else:
        app.cli.add_command(cycles_cli)
