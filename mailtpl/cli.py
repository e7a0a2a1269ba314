"""The ``mailtpl`` command: thin wrappers over the library, one per job."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from .errors import PybarsError


def _friendly(fn):
    """Mistakes in templates, data or settings end the command with their message, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (PybarsError, ValueError, OSError) as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)
    return wrapper


templates_option = click.option("--templates", "templates", default="templates", show_default=True,
                                type=click.Path(file_okay=False), help="Folder of email templates.")
out_option = click.option("--out", "out", default="previews", show_default=True,
                          type=click.Path(file_okay=False), help="Folder of snapshots.")


@click.group()
@click.version_option(package_name="mailtpl")
def main() -> None:
    """Compile, preview, test and send transactional email written in Handlebars."""


@main.command()
@templates_option
@out_option
@_friendly
def build(templates: str, out: str) -> None:
    """Render every email x sample-data set into the snapshot folder."""
    from .snapshots import build as build_snapshots, preview_environment, render_snapshots

    files = render_snapshots(preview_environment(templates))
    result = build_snapshots(files, Path(out), report=click.echo)
    click.echo(f"{len(files)} files in {out}/: {len(result.missing)} new, {len(result.changed)} updated, "
               f"{len(result.stale)} removed")


@main.command()
@templates_option
@out_option
@_friendly
def check(templates: str, out: str) -> None:
    """Fail (exit 1) when the snapshots differ from what the templates render now."""
    from .snapshots import compare, preview_environment, render_snapshots

    files = render_snapshots(preview_environment(templates))
    result = compare(files, Path(out))
    for name, diff in result.changed.items():
        click.echo(diff, nl=False)
    for name in result.missing:
        click.secho(f"missing: {out}/{name} (not built yet)", fg="red")
    for name in result.stale:
        click.secho(f"stale: {out}/{name} (no email or sample data renders it any more)", fg="red")
    if not result.clean:
        click.secho(f"{len(result.changed)} changed, {len(result.missing)} missing, {len(result.stale)} stale: "
                    f"review the diff, then run `mailtpl build` to accept it", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} snapshots in {out}/ match the templates")
