"""The `partnerscope` command line: one clear sentence on error, a traceback only with --debug."""
from __future__ import annotations

import logging
import sys

import click
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from connectors.errors import FatalError, RetriableError
from service.commands.context import Context, pass_ctx
from service.commands.deliveries import deliveries
from service.commands.ingest import classify, demo, import_group, sync
from service.commands.reports import people, report, statuses
from service.commands.runs import runs
from service.commands.serving import run, serve
from service.commands.users import tokens, users
from service.commands.worker import worker
from service.config import ConfigError
from service.logs import configure_logging
from service.store.db import make_engine, safe_url, upgrade
from service.store.assignments import AssignmentError
from service.store.identity import IdentityError
from service.store.locks import SourceBusy
from service.store.users import UserError
from service.store.report import FilterError
from service.terminal import printable

log = logging.getLogger("partnerscope")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", help="Configuration file (default: $PARTNERSCOPE_CONFIG, else ./config.toml, else the built-in demo).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Partnerscope: who really carries quality, issues, improvements and deployment."""
    configure_logging(debug)  # PARTNERSCOPE_LOG_FORMAT: text, or json for a log collector
    ctx.obj = Context(config_path, debug)
    ctx.call_on_close(ctx.obj.close)


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply the schema migrations."""
    engine = make_engine(ctx.config.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"database {safe_url(ctx.config.database_url)} is up to date")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and turn known errors into one sentence and an exit status."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="partnerscope", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, IdentityError, AssignmentError, FilterError, UserError) as exc:
        _fail(debug, str(exc), 2)
    except (FatalError, SourceBusy) as exc:
        _fail(debug, str(exc), 1)
    except RetriableError as exc:
        _fail(debug, f"{exc} Everything fetched before this point is kept; run the command again to resume.", 1)
    except SQLAlchemyError as exc:
        _fail(debug, database_sentence(exc), 1)
    except KeyboardInterrupt:
        click.echo("interrupted; everything committed so far is kept", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a mistake of the user's: still one sentence, traceback on --debug
        _fail(debug, f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}; "
                     "run again with --debug for the traceback.", 1)


def database_sentence(exc: SQLAlchemyError) -> str:
    """A database error as one sentence; a lost race with another process says what to do."""
    detail = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0] if str(exc) else "no detail"
    if isinstance(exc, OperationalError) and "database is locked" in detail:
        return ("the database stayed busy with another process's writes for longer than this command waits; "
                "everything committed before is kept, so run the command again.")
    if isinstance(exc, IntegrityError):
        return ("another process wrote the same rows at the same moment, so this command's last transaction was "
                f"rolled back ({exc.__class__.__name__}); everything committed before is kept, so run it again.")
    return f"database error: {exc.__class__.__name__}: {detail}"


def _fail(debug: bool, message: str, status: int) -> None:
    if debug:
        raise
    click.echo(f"partnerscope: {printable(message)}", err=True)
    sys.exit(status)


for command in (sync, import_group, classify, report, statuses, people, demo, serve, run, worker, deliveries, runs,
                users, tokens):
    cli.add_command(command)


if __name__ == "__main__":
    main()
