"""The ``mailtpl`` command: thin wrappers over the library, one per job."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from .errors import TemplateError


def _friendly(fn):
    """Mistakes in templates, data or settings end the command with their message, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BrokenPipeError:  # the reader left (`mailtpl lint | head`): stop quietly, as cat does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
            sys.exit(1)
        except (TemplateError, ValueError, OSError) as exc:
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


def _snapshots(templates: str) -> dict[str, str]:
    """What build and check both render, with a warning for each email no snapshot covers."""
    from .snapshots import preview_environment, render_snapshots, without_sample_data

    env = preview_environment(templates)
    files = render_snapshots(env)
    for name in without_sample_data(env):
        click.secho(f"warning: {name} has no sample data ({name}.preview.json), so no snapshot covers it",
                    fg="yellow", err=True)
    return files


@main.command()
@templates_option
@out_option
@_friendly
def build(templates: str, out: str) -> None:
    """Render every email x sample-data set into the snapshot folder."""
    from .snapshots import build as build_snapshots

    files = _snapshots(templates)
    result = build_snapshots(files, Path(out), report=click.echo)
    click.echo(f"{len(files)} files in {out}/: {len(result.missing)} new, {len(result.changed)} updated, "
               f"{len(result.stale)} removed")


@main.command()
@templates_option
@out_option
@click.option("--lint", "lint", is_flag=True, help="Also run `mailtpl lint` (fail on its errors).")
@_friendly
def check(templates: str, out: str, lint: bool) -> None:
    """Fail (exit 1) when the snapshots differ from what the templates render now."""
    from .snapshots import compare

    files = _snapshots(templates)
    lint_failed = lint and _lint_failed(templates)
    result = compare(files, Path(out))
    for diff in result.changed.values():
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
    if lint_failed:
        sys.exit(1)


@main.command()
@click.argument("name")
@click.option("--set", "fixture", default="default", show_default=True, help="Name of the sample-data set.")
@click.option("--force", is_flag=True, help="Replace the set if NAME.preview.json already has it.")
@templates_option
@_friendly
def sample(name: str, fixture: str, force: bool, templates: str) -> None:
    """Generate sample data for email NAME from its variables into NAME.preview.json."""
    import json

    from .environment import Environment
    from .snapshots import snapshot_stem

    env = Environment(templates)
    snapshot_stem(name, fixture)  # a set name `mailtpl build` could not use is refused now
    data = env.sample_data(name)
    env.render(name, data, preview=True)  # the generated data renders (strict mode)
    path = env.loader.save_fixture(name, fixture, data, overwrite=force)
    click.echo(f"wrote sample-data set {fixture!r} to {path}:\n{json.dumps(data, indent=2, ensure_ascii=False)}")


@main.command()
@click.argument("name")
@click.option("--to", "to", required=True, multiple=True, help="Recipient (repeat for more).")
@click.option("--data", "data", default=None, help='Data as JSON, e.g. \'{"code": "482913"}\'.')
@click.option("--fixture", "fixture", default=None, help="A sample-data set of the email instead of --data.")
@templates_option
@_friendly
def send(name: str, to: tuple[str, ...], data: str | None, fixture: str | None, templates: str) -> None:
    """Render email NAME and send it through the SMTP_* settings (environment or .env)."""
    import json
    import logging

    from .environment import Environment
    from .smtp import Mailer, SmtpConfig, SmtpError

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        context = json.loads(data) if data else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"--data is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    try:
        with Mailer(Environment(templates), SmtpConfig.from_env()) as mailer:
            result = mailer.send(name, list(to), context, fixture=fixture)
    except SmtpError as exc:
        raise ValueError(str(exc)) from None
    click.echo(f"sent {name} to {', '.join(result.accepted)}: {result.message_id} ({result.reply})")


@main.command()
@click.option("--to", "to", default=None, help="Also send a test message to this address.")
@click.option("--env-file", "env_file", default=".env", show_default=True, help="The .env file to read.")
@click.option("--dns", "records", is_flag=True, help="Show the sender domain's SPF, DKIM and DMARC records "
              "(always when DKIM_* is set).")
def doctor(to: str | None, env_file: str, records: bool) -> None:
    """Check the SMTP settings step by step and say what to fix."""
    import logging

    from .smtp.doctor import diagnose

    logging.getLogger("mailtpl").addHandler(logging.NullHandler())  # the steps say it all, not again on stderr

    def emit(step) -> None:
        mark = click.style("✓", fg="green") if step.ok else click.style("✗", fg="red")
        if step.warn:
            mark = click.style("!", fg="yellow")
        click.echo(f"{mark} {step.name}: {step.detail}")
        if not step.ok and step.fix:
            click.echo(f"  fix: {step.fix}")

    steps = diagnose(dotenv=env_file, to=to, emit=emit, records=records)
    sys.exit(0 if steps and all(step.ok for step in steps) else 1)


def capture_options(fn):
    """--smtp-host, --smtp-port, --max-messages, --max-megabytes, --capture-folder: where the capture listens
    and what it keeps."""
    from .capture import DEFAULT_LIMIT, DEFAULT_MAX_BYTES, DEFAULT_SMTP_PORT

    for option in reversed([
        click.option("--smtp-host", default="127.0.0.1", show_default=True,
                     help="Address the SMTP capture listens on."),
        click.option("--smtp-port", default=DEFAULT_SMTP_PORT, show_default=True, type=click.IntRange(0, 65535),
                     help="Port the SMTP capture listens on (0: any free port)."),
        click.option("--max-messages", default=DEFAULT_LIMIT, show_default=True, type=click.IntRange(1),
                     help="Caught messages kept in memory; the oldest is dropped past this."),
        click.option("--max-megabytes", default=DEFAULT_MAX_BYTES >> 20, show_default=True, type=click.IntRange(1),
                     help="Megabytes of caught mail kept in memory; the oldest is dropped past this."),
        click.option("--capture-folder", default=None, type=click.Path(file_okay=False),
                     help="Also keep caught messages as .eml files in this folder."),
    ]):
        fn = option(fn)
    return fn


def _start_capture(smtp_host: str, smtp_port: int, max_messages: int, max_megabytes: int,
                   capture_folder: str | None):
    from .capture import CaptureServer, Inbox
    from .smtp.transport import is_loopback

    if not is_loopback(smtp_host):
        click.secho(f"warning: catching mail on {smtp_host}: anyone who can reach this machine can send to it",
                    fg="yellow", err=True)
    inbox = Inbox(max_messages, capture_folder, max_bytes=max_megabytes << 20)
    server = CaptureServer(inbox, host=smtp_host, port=smtp_port).start()
    click.echo(f"catching mail on smtp://{server.host}:{server.port} (any recipient, any AUTH, STARTTLS with "
               f"SMTP_CA_FILE={server.cert_file}); keeping the last {max_messages}, at most {max_megabytes} MB")
    return server


@main.command()
@templates_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@click.option("--assets", "assets", default=None, type=click.Path(exists=True, file_okay=False),
              help="Folder served at {{baseUrl}}/assets/ (default: assets/ in the templates folder, or "
                   "\"assets\" in mailtpl.json).")
@click.option("--capture/--no-capture", "capture", default=True, show_default=True,
              help="Catch mail sent to the SMTP port and show it at /inbox.")
@capture_options
@_friendly
def preview(templates: str, host: str, port: int, assets: str | None, capture: bool, smtp_host: str, smtp_port: int,
            max_messages: int, max_megabytes: int, capture_folder: str | None) -> None:
    """Serve the live preview: edit a template, the open page re-renders."""
    from .environment import Environment
    from .preview import create_app
    from .smtp.transport import is_loopback

    if not is_loopback(host):
        click.secho(f"warning: listening on {host}: anyone who can reach this machine sees your emails "
                    "and can send test mail through your SMTP settings", fg="yellow", err=True)
    env = Environment(templates)
    server = None
    if capture:
        from .capture import CaptureError

        try:
            server = _start_capture(smtp_host, smtp_port, max_messages, max_megabytes, capture_folder)
        except CaptureError as exc:  # the preview is still worth having without the inbox
            click.secho(f"warning: {exc}; previewing without the inbox", fg="yellow", err=True)
    app = create_app(env, host=host, assets_dir=assets)
    if server is not None:
        from .capture import register

        register(app, server.inbox, address=(server.host, server.port))
    _serve(app, host, port, server,
           lambda bound: f"previewing {env.loader.root}/ on http://{host}:{bound}/ (Ctrl-C to stop)")


def _serve(app, host: str, port: int, capture, announce) -> None:
    """Serve ``app`` until Ctrl-C (werkzeug, without its development banner), saying ``announce(port)`` once
    listening; the capture server stops with it."""
    from werkzeug.serving import make_server

    try:
        http = make_server(host, port, app, threaded=True)
        click.echo(announce(http.server_port))
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if capture is not None:
            capture.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the HTTP API listens on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port of the HTTP API.")
@capture_options
@_friendly
def capture(host: str, port: int, smtp_host: str, smtp_port: int, max_messages: int, max_megabytes: int,
            capture_folder: str | None) -> None:
    """Catch mail headless, for CI and scripts: SMTP in, the inbox's JSON API at /api/messages."""
    from .capture import create_app

    server = _start_capture(smtp_host, smtp_port, max_messages, max_megabytes, capture_folder)
    _serve(create_app(server.inbox, address=(server.host, server.port), host=host), host, port, server,
           lambda bound: f"API on http://{host}:{bound}/api/messages (Ctrl-C to stop)")


def _lint_failed(templates: str) -> bool:
    """`check --lint`: print the lint report; whether it has errors."""
    from .lint import report as lint_report

    reports = _lint(templates, (), None)
    click.echo(lint_report.text(reports), nl=False)
    return any(r.errors for r in reports)


def _lint(templates: str, names: tuple[str, ...], clients: str | None) -> list:
    from .lint import Linter
    from .snapshots import preview_environment

    env = preview_environment(templates)
    linter = Linter(env, clients.split(",") if clients else None)
    return [linter.lint(name) for name in (names or env.names())]


@main.command()
@click.argument("names", nargs=-1)
@templates_option
@click.option("--clients", default=None, metavar="LIST",
              help="Email clients to check, e.g. gmail,outlook.windows@2016..2021,apple-mail "
                   "(default: mailtpl.json lint.clients, else Gmail, Outlook 2016-2021 and Outlook.com, "
                   "Apple Mail, Yahoo, Samsung Email).")
@click.option("--format", "format_", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="github: workflow annotations on the pull request.")
@click.option("--notes", is_flag=True, help="Also list partial-support notes (text format).")
@click.option("--verbose", "-v", is_flag=True, help="Also list findings switched off in mailtpl.json.")
@click.option("--rules", "list_rules", is_flag=True, help="List the rules and exit.")
@_friendly
def lint(names: tuple[str, ...], templates: str, clients: str | None, format_: str, notes: bool, verbose: bool,
         list_rules: bool) -> None:
    """Check emails for client support (caniemail), Gmail clipping, images, links and accessibility.

    Lints NAMES (default: every email) with each of their sample-data sets (without any, with data made up
    from what the email reads); exit 1 on errors."""
    from .lint import RULES
    from .lint import report as lint_report

    if list_rules:
        for rule, description in RULES.items():
            click.echo(f"{rule:16} {description}")
        return
    reports = _lint(templates, names, clients)
    if format_ == "json":
        click.echo(lint_report.as_json(reports), nl=False)
    elif format_ == "github":
        click.echo(lint_report.github(reports, templates), nl=False)
        click.echo(lint_report.summary(reports), err=True)
    else:
        click.echo(lint_report.text(reports, notes=notes, verbose=verbose), nl=False)
    sys.exit(1 if any(r.errors for r in reports) else 0)
