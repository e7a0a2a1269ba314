"""The one reader of ``.env`` files: what :class:`~mailtpl.environment.Environment` (ADMIN_WEB_URL) and
:meth:`~mailtpl.smtp.config.SmtpConfig.from_env` (SMTP_*, DKIM_*) read from the same file."""
from __future__ import annotations

import os
from collections.abc import Collection

from .errors import DataError


def read_dotenv(path: str | os.PathLike | None, keys: Collection[str]) -> dict[str, str | None]:
    """The values of ``keys`` set in the .env file ``path`` (empty without the file); DataError naming the
    file when it is not UTF-8 text. python-dotenv loads only when there is a file."""
    if path is None or not os.path.isfile(path):
        return {}
    from dotenv import dotenv_values

    try:
        return {key: value for key, value in dotenv_values(path).items() if key in keys}
    except UnicodeDecodeError as exc:
        what = ", ".join(keys) if len(keys) <= 3 else "settings"
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); mailtpl reads {what} from it",
                        name=os.fspath(path)) from None
