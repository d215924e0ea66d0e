"""``xieshang grant``, ``revoke`` and ``audit``: the operator appoints people, and it is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import EXIT_FAILED, main
from tests.helpers import SHIPPED_CONFIG

CONFIG = ["--config", str(SHIPPED_CONFIG)]


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for name in ("XIESHANG_CONFIG", "TELEGRAM_BOT_TOKEN", "XIESHANG_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XIESHANG_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("XIESHANG_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()


def test_the_operator_grants_revokes_and_reads_the_audit_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*CONFIG, "migrate"]) == 0
    capsys.readouterr()

    assert main([*CONFIG, "grant", "4242", "staff", "HD", "secretary"]) == 0
    assert "4242 is now secretary of Hedong Community (HD)" in capsys.readouterr().out
    assert main([*CONFIG, "grant", "4242", "书记", "hd"]) == 0
    assert "already" in capsys.readouterr().out
    assert main([*CONFIG, "grant", "77", "admin", "county"]) == 0
    assert "77 is now admin of the whole county" in capsys.readouterr().out
    assert main([*CONFIG, "revoke", "4242", "staff", "HD"]) == 0
    revoked = capsys.readouterr().out
    assert "4242 is no longer secretary" in revoked
    assert "Hedong Community has no secretary" in revoked

    assert main([*CONFIG, "audit", "--community", "HD", "--limit", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Audit log of Hedong Community, newest first"
    assert "handed over open work" in lines[1]
    assert "revoked a role" in lines[2]
    assert "granted a role" in lines[3]
    assert all("operator" in line for line in lines[1:4])
    assert "4242" in lines[3]
    assert lines[-1] == "3 entries."
    assert main([*CONFIG, "audit"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "4 entries."


def test_bad_operator_input_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CONFIG, "migrate"]) == 0
    capsys.readouterr()
    assert main([*CONFIG, "grant", "4242", "owner", "HD-01/-/101"]) == EXIT_FAILED
    assert "/claims" in capsys.readouterr().err
    assert main([*CONFIG, "grant", "4242", "staff", "HD"]) == EXIT_FAILED
    assert "Staff need a position" in capsys.readouterr().err
    assert main([*CONFIG, "revoke", "4242", "staff", "HD"]) == EXIT_FAILED
    assert "is not secretary" not in capsys.readouterr().out
    assert main([*CONFIG, "audit", "--community", "NOPE"]) == EXIT_FAILED
    assert "NOPE" in capsys.readouterr().err
