"""Flask CLI commands: ``flask --app wsgi boundaries build``, ``flask --app wsgi ocop build``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

boundaries_cli = AppGroup("boundaries", help="Build the processed boundary editions.")
ocop_cli = AppGroup("ocop", help="Manage OCOP products, producers and outlets.")
db_cli = AppGroup("db", help="The PostGIS database (GEOAPP_DATABASE_URL): schema and data.")


def _settings():
    return current_app.extensions["geoapp"].settings


@boundaries_cli.command("build")
@click.option(
    "--sources",
    type=click.Path(file_okay=False),
    default=None,
    help="Raw boundary folder (default: GEOAPP_BOUNDARY_SOURCES).",
)
def boundaries_build(sources: str | None) -> None:
    """Read the raw sources and write data/boundaries/ (atomically)."""
    from pathlib import Path

    from geoapp.services.boundary_build import BoundaryBuildError, build_boundaries

    settings = _settings()
    source_dir = Path(sources) if sources else settings.boundary_sources
    try:
        summary = build_boundaries(source_dir, settings.boundaries_dir, echo=click.echo)
    except BoundaryBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


@ocop_cli.command("build")
@click.option(
    "--sources",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of compiled OCOP facts (default: GEOAPP_OCOP_SOURCES).",
)
def ocop_build(sources: str | None) -> None:
    """Carry the published OCOP facts into data/ocop/ with commune codes and locations."""
    from pathlib import Path

    from geoapp.services.ocop_facts import OcopBuildError, build_ocop_facts

    settings = _settings()
    source_dir = Path(sources) if sources else settings.ocop_sources
    try:
        summary = build_ocop_facts(
            source_dir,
            settings.boundary_sources,
            settings.boundaries_dir,
            settings.ocop_dir,
            echo=click.echo,
        )
    except OcopBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


# -- data management (issue #3): thin commands over geoapp.services.imports ---------------------


def _imports():
    from geoapp.services.imports import ImportService

    state = current_app.extensions["geoapp"]
    return ImportService(state.store, state.settings)


def _plan(paths: tuple[str, ...], allow_updates: bool, lang: str):
    from pathlib import Path

    from geoapp.services.imports import ImportRejected, terminal_progress

    try:
        plan = _imports().plan_paths(
            [Path(p) for p in paths], allow_updates=allow_updates, progress=terminal_progress
        )
    except ImportRejected as exc:
        raise click.ClickException(str(exc)) from exc
    if plan.report.issues:
        click.echo(plan.report.to_text(lang))
    click.echo(plan.summary(lang))
    return plan


_files = click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
_updates = click.option("--allow-updates", is_flag=True,
                        help="Replace existing records that have the same id.")  # fmt: skip
_lang = click.option("--lang", type=click.Choice(["en", "vi"]), default="en",
                     help="Language of the report.")  # fmt: skip


@ocop_cli.command("validate")
@_files
@_updates
@_lang
def ocop_validate(paths, allow_updates: bool, lang: str) -> None:
    """Check CSV/XLSX files (or folders of them) without changing anything."""
    plan = _plan(paths, allow_updates, lang)
    if not plan.ok:
        raise SystemExit(1)


@ocop_cli.command("import")
@_files
@_updates
@_lang
@click.option("--note", default="", help="Note kept in the version's manifest.")
def ocop_import(paths, allow_updates: bool, lang: str, note: str) -> None:
    """Validate and, when there is no error, apply as a new data version."""
    from geoapp.services.imports import ImportRejected
    from geoapp.storage.versions import VersionError

    plan = _plan(paths, allow_updates, lang)
    if not plan.ok:
        raise click.ClickException("not imported: fix the errors above (nothing was changed)")
    try:
        version = _imports().apply(plan, note=note)
    except (ImportRejected, VersionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"imported as {version}" if version else "nothing to change: no new version")


@ocop_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
def ocop_export(directory: str, fmt: str) -> None:
    """Write the data being served in the import format."""
    try:
        paths = _imports().export(directory, fmt)
    except OSError as exc:
        raise click.ClickException(f"cannot write to {directory}: {exc.strerror}") from exc
    for path in paths:
        click.echo(f"wrote {path}")


@ocop_cli.command("history")
def ocop_history() -> None:
    """List the imported versions (* marks the one served)."""
    from geoapp.services.imports import describe_version

    service = _imports()
    infos = service.history()
    current = service.current_version()
    click.echo(f"{'*' if current is None else ' '} seed   (data/ocop, the shipped facts)")
    for info in infos:
        click.echo(describe_version(info))
    events = service.versions.pointer()["events"] if service.store.versions else []
    if events:
        click.echo("switches (latest last):")
        for event in events[-10:]:
            click.echo(f"  {event['at']}  {event['action']:<9} {event.get('from') or 'seed'}"
                       f" -> {event.get('version') or 'seed'}")  # fmt: skip


@ocop_cli.command("rollback")
@click.argument("version")
def ocop_rollback(version: str) -> None:
    """Serve an earlier version again (a name from `ocop history`, or `seed`)."""
    from geoapp.services.imports import ImportRejected
    from geoapp.storage.versions import VersionError

    try:
        current = _imports().rollback(version)
    except (ImportRejected, VersionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"now serving {current or 'seed'}")


@ocop_cli.command("template")
@click.argument("directory", type=click.Path(file_okay=False), default="ocop-templates")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", help="Header language.")
def ocop_template(directory: str, lang: str) -> None:
    """Write empty CSV and XLSX templates with one example row."""
    from geoapp.services.imports import write_templates

    for path in write_templates(directory, lang):
        click.echo(f"wrote {path}")


@ocop_cli.command("demo-data")
@click.option("--products", type=click.IntRange(1, 10_000_000), required=True)
@click.option("--producers", type=click.IntRange(1, 10_000_000), default=None,
              help="Default: products / 1.48 (the province's ratio).")  # fmt: skip
@click.option("--outlets", type=click.IntRange(1, 1_000_000), default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Write import files here instead of creating a version.")  # fmt: skip
def ocop_demo_data(products, producers, outlets, seed: int, out: str | None) -> None:
    """Generate illustrative records (flagged illustrative=true) from the published shares."""
    from geoapp.services import imports
    from geoapp.services.demo_data import DemoSpec, summary

    service = _imports()
    spec = DemoSpec(products, seed, producers, outlets, service.settings.as_of)
    frames = imports.demo_frames(service, spec)
    click.echo(summary(frames))
    if out:
        for path in imports.write_frames(frames, out):
            click.echo(f"wrote {path}")
        return
    version = imports.apply_demo(service, frames, note=f"demo-data seed {seed}")
    click.echo(f"created {version}: the map now shows illustrative data (banner shown)")


# -- the PostGIS store (issue 14) ---------------------------------------------------------------


def _database():
    from geoapp.storage.pg_database import Database

    settings = _settings()
    if not settings.database_url:
        raise click.ClickException("GEOAPP_DATABASE_URL is not set (postgresql://...)")
    return Database(settings.database_url, settings.database_schema)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (Alembic migrations in geoapp/storage/migrations)."""
    from geoapp.storage import pg_schema
    from geoapp.storage.pg_database import StoreUnavailableError

    try:
        pg_schema.upgrade(_database(), revision)
    except StoreUnavailableError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"schema {_settings().database_schema} at revision {revision}")


@db_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
def db_load(if_empty: bool) -> None:
    """Load data/boundaries and the OCOP version the file store serves now, then switch."""
    from geoapp.storage import FileStore, pg_schema
    from geoapp.storage.pg_database import StoreUnavailableError

    settings = _settings()
    files = FileStore(settings.data_dir, settings.ocop_versions_dir)
    try:
        summary = pg_schema.load(
            _database(), settings.boundaries_dir, files.current_ocop_dir(), if_empty=if_empty
        )
    except (StoreUnavailableError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


def register(app) -> None:
    app.cli.add_command(boundaries_cli)
    app.cli.add_command(ocop_cli)
    app.cli.add_command(db_cli)
