"""Writing the files mailtpl keeps (snapshots, sample data) without ever leaving one half-written."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def replace_file(path: Path, content: str) -> None:
    """Replace ``path`` with a new file holding ``content``: never written through a hard link (or a link
    put there after the checks), and never left half-written or emptied when writing fails."""
    data = content.encode("utf-8")  # fails here, before any file is touched
    tmp = path.with_name(f".mailtpl-{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as to any new file
    try:
        with open(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
