"""Issue 14: every CSS/HTML feature @jsx-email/doiuse-email flags on the same HTML for the same clients is
flagged (or, where caniemail's newer data says the clients support it, at least detected) by mailtpl lint."""
import shutil

import pytest

from bench.lint_doiuse import PACKAGE, compare

pytestmark = pytest.mark.skipif(not shutil.which("node") or not PACKAGE.exists(),
                                reason="needs node and `npm install --prefix bench @jsx-email/doiuse-email`")


def test_mailtpl_flags_what_doiuse_email_flags():
    result = compare()
    documents = result
    assert set(documents) == {"templates/invitation", "templates/resetPassword", "templates/verification",
                              "fixture/verification", "kitchen-sink"}
    missed = {label: [title for title, verdict in entry["rows"].items() if verdict.startswith("MISSED")]
              for label, entry in documents.items()}
    assert missed == {label: [] for label in documents}
    assert len(documents["kitchen-sink"]["rows"]) >= 70  # the comparison covers many features
    both = [title for title, verdict in documents["kitchen-sink"]["rows"].items() if verdict == "flagged by both"]
    assert len(both) >= 70
    assert "SVG image format" in documents["fixture/verification"]["only_mailtpl"]  # doiuse-email has no formats
