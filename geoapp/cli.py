"""Flask CLI commands: ``flask --app wsgi boundaries build``, ``flask --app wsgi ocop build``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

boundaries_cli = AppGroup("boundaries", help="Build the processed boundary editions.")
ocop_cli = AppGroup("ocop", help="Manage OCOP products, producers and outlets.")


def _settings():
    return current_app.extensions["geoapp"].settings


@boundaries_cli.command("build")
@click.option("--sources", type=click.Path(file_okay=False), default=None,
              help="Raw boundary folder (default: GEOAPP_BOUNDARY_SOURCES).")
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
@click.option("--sources", type=click.Path(file_okay=False), default=None,
              help="Folder of compiled OCOP facts (default: GEOAPP_OCOP_SOURCES).")
def ocop_build(sources: str | None) -> None:
    """Carry the published OCOP facts into data/ocop/ with commune codes and locations."""
    from pathlib import Path

    from geoapp.services.ocop_facts import OcopBuildError, build_ocop_facts

    settings = _settings()
    source_dir = Path(sources) if sources else settings.ocop_sources
    try:
        summary = build_ocop_facts(
            source_dir, settings.boundary_sources, settings.boundaries_dir, settings.ocop_dir,
            echo=click.echo,
        )
    except OcopBuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)


def register(app) -> None:
    app.cli.add_command(boundaries_cli)
    app.cli.add_command(ocop_cli)
