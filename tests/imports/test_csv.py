"""`helpdesk-api import csv FILE`: good tickets imported, bad rows reported by line."""

import asyncpg
import pytest

from helpdesk_api.imports.csv_rows import CsvLayoutError, parse
from tests.cli.test_commands import _cli

HEADER = (
    "external_id,subject,created_at,requester_email,requester_name,status,tags,"
    "author_email,public,comment_created_at,body\n"
)
ROWS = [
    # line 2-3: a good ticket with a private note
    "csv-1,Cannot print,2024-01-02T08:00:00Z,pat@example.org,Pat,solved,printer legacy,,,,"
    "The printer jams.\n",
    "csv-1,,,,,,,agent.csv@example.com,private,2024-01-02T09:00:00Z,Paper tray broken\n",
    # line 4-5: a bad comment time (its ticket is left out whole, both lines reported)
    "csv-2,Wifi down,2024-01-03T08:00:00Z,kim@example.org,Kim,open,,,,,No wifi since today.\n",
    "csv-2,,,,,,,,,yesterday-ish,Still down\n",
    # line 6: the first row of a ticket without its subject
    "csv-3,,2024-01-04T08:00:00Z,lee@example.org,Lee,,,,,,Hello\n",
    # line 7: a time in the future (refused by the service, not the parser)
    "csv-4,Future,2999-01-01T00:00:00Z,fut@example.org,,,,,,,From the future\n",
    # line 8: a good ticket with a quoted, multi-word body
    'csv-5,Refund,2024-01-05T08:00:00Z,pat@example.org,,closed,,,,,"Please, a refund."\n',
]


async def _rows(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(query)
    finally:
        await connection.close()


async def test_import_csv_imports_good_tickets_and_reports_bad_rows(database_url, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(HEADER + "".join(ROWS))
    env = {"DATABASE_URL": database_url}

    result = _cli("import", "csv", str(path), env=env)
    assert result.returncode == 1, result.stderr
    assert "2 tickets imported, 0 already there, 4 rows left out" in result.stdout
    reported = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in reported] == ["4", "5", "6", "7"], result.stderr
    assert "left out with its ticket" in reported[0]
    assert "comments.1.created_at" in reported[1]
    assert "subject" in reported[2]
    assert "future" in reported[3]

    tickets = await _rows(
        database_url,
        "SELECT external_id, status_category, comment_count FROM tickets ORDER BY external_id",
    )
    assert [tuple(t) for t in tickets] == [("csv-1", "solved", 2), ("csv-5", "closed", 1)]
    comments = await _rows(
        database_url,
        "SELECT c.is_public, c.via, c.body FROM ticket_comments c JOIN tickets t"
        " ON t.id = c.ticket_id WHERE t.external_id = 'csv-1' ORDER BY c.created_at",
    )
    assert [tuple(c) for c in comments] == [
        (True, "import", "The printer jams."),
        (False, "import", "Paper tray broken"),
    ]


def test_a_file_whose_columns_are_wrong_imports_nothing():
    # The command exits 2 on this error before it opens the database.
    with pytest.raises(CsvLayoutError, match=r"missing \['external_id'"):
        parse(["id,title\n", "1,x\n"])
    with pytest.raises(CsvLayoutError, match="empty"):
        parse([])
