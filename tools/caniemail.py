"""Regenerate mailtpl/lint/caniemail.json from the ``caniemail`` npm package.

    python tools/caniemail.py                      # npm pack caniemail@latest into a temporary folder
    python tools/caniemail.py caniemail-2.0.2.tgz  # or from a tarball you have

Only the fields mailtpl reads are kept (per feature: slug, title, url, category,
stats, notes_by_num). The package is MIT licensed (see README, "Lint"); its
copyright lines travel with the data. mailtpl never touches the network at run
time: the JSON file ships with the package.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "mailtpl" / "lint" / "caniemail.json"
FIELDS = ("slug", "title", "url", "category", "stats", "notes_by_num")


def pack(spec: str, folder: Path) -> Path:
    """``npm pack`` the package into ``folder``; the tarball's path."""
    done = subprocess.run(["npm", "pack", spec, "--pack-destination", str(folder), "--silent"],
                          check=True, capture_output=True, text=True)
    return folder / done.stdout.strip().splitlines()[-1]


def read_tarball(path: Path) -> tuple[dict, dict, str]:
    """package.json, data/caniemail.json and LICENSE of a caniemail tarball."""
    with tarfile.open(path, "r:gz") as tar:
        def member(name: str) -> bytes:
            file = tar.extractfile(f"package/{name}")
            if file is None:
                raise SystemExit(f"{path}: no package/{name}")
            return file.read()
        return (json.loads(member("package.json")), json.loads(member("data/caniemail.json")),
                member("LICENSE").decode("utf-8"))


def convert(package: dict, data: dict, license_text: str) -> dict:
    copyright_lines = [line.strip() for line in license_text.splitlines() if line.strip().startswith("Copyright")]
    return {
        "source": {"package": package["name"], "version": package["version"], "license": package["license"],
                   "copyright": copyright_lines, "homepage": "https://www.caniemail.com/",
                   "last_update_date": data["last_update_date"]},
        "nicenames": {key: data["nicenames"][key] for key in ("family", "platform", "support")},
        "features": [{key: feature.get(key) for key in FIELDS} for feature in data["data"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", nargs="?", type=Path, help="a caniemail-*.tgz (default: npm pack caniemail@latest)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or pack("caniemail@latest", Path(tmp))
        result = convert(*read_tarball(tarball))
    args.out.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{args.out}: caniemail {result['source']['version']} ({result['source']['last_update_date']}), "
          f"{len(result['features'])} features", file=sys.stderr)


if __name__ == "__main__":
    main()
