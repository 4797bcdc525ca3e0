"""The error codes: Gameball's where it has one, ours numbered apart, all of them documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.config import Config
from app.error_codes import CATALOGUE, for_status

ROOT = Path(__file__).resolve().parents[2]
# Every code Gameball's published catalogue uses (../shared/reference, "Errors").
GAMEBALL_CODES = {1000, 1001, 1002, 2000, 2001, 3000, 3001, 3003, 3004, 3011, 3013, 3016, 4000,
                  4004, 4500, 5000, 5003, 7000, 7001, 8000, 9002, 9003, 9004, 9006, 9007, 9008}


def test_ours_are_numbered_apart_from_gameballs():
    for entry in CATALOGUE.values():
        if entry.gameball:
            assert entry.code in GAMEBALL_CODES, entry
        else:
            assert entry.code not in GAMEBALL_CODES and entry.code == 4000 + entry.status - 400


@pytest.mark.parametrize(("status", "code"), [(404, 4004), (405, 4005), (413, 4013),
                                              (415, 3013), (400, 3016), (500, 5000), (502, 5000)])
def test_the_frameworks_own_errors_get_the_code_of_their_status(status, code):
    assert for_status(status).code == code


def test_the_readme_table_lists_every_code_with_its_status():
    readme = (ROOT / "README.md").read_text()
    rows = dict((int(code), int(status)) for code, status
                in re.findall(r"^\| (\d{4}) \| (\d{3}) \|", readme, flags=re.MULTILINE))
    assert rows == {entry.code: entry.status for entry in CATALOGUE.values()}


def test_the_errors_page_has_an_anchor_per_code():
    page = create_app(Config({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/0"})
                      ).test_client().get("/docs/errors")
    assert page.status_code == 200 and page.mimetype == "text/html"
    anchors = {int(code) for code in re.findall(r'<tr id="(\d+)">', page.text)}
    assert anchors == set(CATALOGUE)
