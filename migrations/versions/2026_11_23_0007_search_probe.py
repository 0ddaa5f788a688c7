"""A probe that asks the search index first, so a word that matches nothing costs nothing;
search documents without a column default; tickets.subject_search goes.

A page of search results is read in list order (newest first) and stops at the page's end:
instant for common words. PostgreSQL picks that walk whenever it expects many matches, and
its statistics cannot tell a word it never sampled (a typo) from a common one; then the walk
reads every ticket and finds nothing (seconds at a million tickets). The probe reads the GIN
index alone, up to a cap: fewer hits than the cap and the page is read from those ids.

The documents are written by the BEFORE INSERT trigger of 0006; without a column default the
ORM no longer reads them back after every INSERT. ``subject_search`` and its GIN index served
the old search only: every new ticket paid for them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# NULL: every word is common (in the column's statistics, in at least 1 % of tickets), so the
# newest matches come first in list order and no probe is needed; building the index's bitmap
# for such a word would cost more than the page. Otherwise the matching ids, up to the cap.
# With sequential and plain index scans off, the only way left is a bitmap scan of the GIN
# index, whose cost follows the matches, never the table.
PROBE = """
CREATE FUNCTION ticket_search_probe(words text, probe_limit integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
DECLARE
    lexemes text[] := tsvector_to_array(to_tsvector('simple'::regconfig, words));
    common text[];
BEGIN
    IF cardinality(lexemes) = 0 THEN
        RETURN '{}';
    END IF;
    SELECT array_agg(element) INTO common
    FROM pg_stats AS s,
         unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs)
             AS m(element, frequency)
    WHERE s.schemaname = current_schema()
      AND s.tablename = 'tickets'
      AND s.attname = 'search_document'
      AND m.frequency >= 0.01;
    IF lexemes <@ common THEN
        RETURN NULL;
    END IF;
    RETURN (
        SELECT coalesce(array_agg(id), '{}')
        FROM (
            SELECT id FROM tickets
            WHERE search_document @@ websearch_to_tsquery('simple'::regconfig, words)
            LIMIT probe_limit
        ) AS hits
    );
END
$$
"""


def upgrade() -> None:
    op.execute(PROBE)
    for column in ("search_document", "public_search_document"):
        op.alter_column("tickets", column, server_default=None)
    op.drop_index("ix_tickets_subject_search", table_name="tickets", postgresql_using="gin")
    op.drop_column("tickets", "subject_search")


def downgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column(
            "subject_search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, subject)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_tickets_subject_search",
        "tickets",
        ["subject_search"],
        unique=False,
        postgresql_using="gin",
    )
    for column in ("search_document", "public_search_document"):
        op.alter_column("tickets", column, server_default=sa.text("''::tsvector"))
    op.execute("DROP FUNCTION ticket_search_probe(text, integer)")
