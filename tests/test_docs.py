"""The docs that are promised to stay true: API coverage and the configuration table."""

from __future__ import annotations

from pathlib import Path

from clarion.api.coverage import render
from clarion.config import Settings

DOCS = Path(__file__).parent.parent / "docs"


def test_api_coverage_doc_is_current() -> None:
    assert (DOCS / "api-coverage.md").read_text() == render(), (
        "run: python -m clarion.api.coverage > docs/api-coverage.md"
    )


def test_every_setting_is_documented() -> None:
    table = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`CLARION_{name.upper()}`" in table, name
