"""Search documents: one tsvector per ticket (subject + every comment) and a public twin
(subject + public comments), kept by triggers; the per-comment search column goes.

Full-text search used to ask ``id IN (comments matching)``, which makes PostgreSQL collect
every matching comment before it can return the first ticket: seconds at a million tickets.
With the words on the ticket's own row the match is a filter (or a GIN lookup) on the rows the
list walks anyway. Triggers, not the service, keep the documents right, so merges, bulk loads
and any future writer of comments cannot forget them.

The upgrade rewrites every ticket once (minutes at millions of tickets, with ``tickets`` locked).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A tsvector holds at most 1 MB. A ticket that outgrows it keeps the words it has rather than
# refusing the comment; a single body too big to index is left out of the document.
FUNCTIONS = [
    """
    CREATE FUNCTION search_vector(body text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    BEGIN
        RETURN to_tsvector('simple'::regconfig, body);
    EXCEPTION WHEN program_limit_exceeded THEN
        RETURN ''::tsvector;
    END
    $$
    """,
    """
    CREATE FUNCTION tsvector_append(document tsvector, addition tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    BEGIN
        IF addition IS NULL THEN
            RETURN document;
        END IF;
        RETURN coalesce(document, ''::tsvector) || addition;
    EXCEPTION WHEN program_limit_exceeded THEN
        RETURN document;
    END
    $$
    """,
    # Concatenation shifts the positions of the right side past the left, so phrases within
    # one comment still match; aggregate WITH ORDER BY id to keep the conversation's order.
    """
    CREATE AGGREGATE search_document_agg(tsvector) (
        SFUNC = tsvector_append, STYPE = tsvector, INITCOND = ''
    )
    """,
    """
    CREATE FUNCTION refresh_search_documents(ticket_ids bigint[]) RETURNS void
    LANGUAGE sql AS $$
        UPDATE tickets AS t
        SET search_document = tsvector_append(search_vector(t.subject), c.words),
            public_search_document = tsvector_append(search_vector(t.subject), c.public_words)
        FROM (
            SELECT k.id,
                   search_document_agg(search_vector(tc.body) ORDER BY tc.id) AS words,
                   search_document_agg(search_vector(tc.body) ORDER BY tc.id)
                       FILTER (WHERE tc.is_public) AS public_words
            FROM unnest(ticket_ids) AS k(id)
            LEFT JOIN ticket_comments AS tc ON tc.ticket_id = k.id
            GROUP BY k.id
        ) AS c
        WHERE t.id = c.id
    $$
    """,
    """
    CREATE FUNCTION tickets_search_subject() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            NEW.search_document := search_vector(NEW.subject);
            NEW.public_search_document := NEW.search_document;
        ELSIF NEW.subject IS DISTINCT FROM OLD.subject THEN
            SELECT tsvector_append(search_vector(NEW.subject),
                       search_document_agg(search_vector(body) ORDER BY id)),
                   tsvector_append(search_vector(NEW.subject),
                       search_document_agg(search_vector(body) ORDER BY id)
                           FILTER (WHERE is_public))
            INTO NEW.search_document, NEW.public_search_document
            FROM ticket_comments WHERE ticket_id = NEW.id;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    # One UPDATE per ticket and statement: a merge copying 100 comments rewrites its target once.
    """
    CREATE FUNCTION ticket_comments_search_append() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE tickets AS t
        SET search_document = tsvector_append(t.search_document, n.words),
            public_search_document = tsvector_append(t.public_search_document, n.public_words)
        FROM (
            SELECT ticket_id,
                   search_document_agg(search_vector(body) ORDER BY id) AS words,
                   search_document_agg(search_vector(body) ORDER BY id)
                       FILTER (WHERE is_public) AS public_words
            FROM new_comments
            GROUP BY ticket_id
        ) AS n
        WHERE t.id = n.ticket_id;
        RETURN NULL;
    END
    $$
    """,
    # Comments are not edited or deleted by the API today; should they be, words must go too.
    """
    CREATE FUNCTION ticket_comments_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            PERFORM refresh_search_documents(ARRAY(
                SELECT ticket_id FROM old_comments UNION SELECT ticket_id FROM new_comments
            ));
        ELSE
            PERFORM refresh_search_documents(ARRAY(SELECT DISTINCT ticket_id FROM old_comments));
        END IF;
        RETURN NULL;
    END
    $$
    """,
]

TRIGGERS = [
    "CREATE TRIGGER tickets_search_subject BEFORE INSERT OR UPDATE OF subject ON tickets "
    "FOR EACH ROW EXECUTE FUNCTION tickets_search_subject()",
    "CREATE TRIGGER ticket_comments_search_insert AFTER INSERT ON ticket_comments "
    "REFERENCING NEW TABLE AS new_comments "
    "FOR EACH STATEMENT EXECUTE FUNCTION ticket_comments_search_append()",
    "CREATE TRIGGER ticket_comments_search_update AFTER UPDATE ON ticket_comments "
    "REFERENCING OLD TABLE AS old_comments NEW TABLE AS new_comments "
    "FOR EACH STATEMENT EXECUTE FUNCTION ticket_comments_search_refresh()",
    "CREATE TRIGGER ticket_comments_search_delete AFTER DELETE ON ticket_comments "
    "REFERENCING OLD TABLE AS old_comments "
    "FOR EACH STATEMENT EXECUTE FUNCTION ticket_comments_search_refresh()",
]


def upgrade() -> None:
    empty = sa.text("''::tsvector")
    op.add_column(
        "tickets",
        sa.Column("search_document", postgresql.TSVECTOR(), server_default=empty, nullable=False),
    )
    op.add_column(
        "tickets",
        sa.Column(
            "public_search_document", postgresql.TSVECTOR(), server_default=empty, nullable=False
        ),
    )
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute("SELECT refresh_search_documents(ARRAY(SELECT id FROM tickets))")
    for statement in TRIGGERS:
        op.execute(statement)
    op.create_index(
        "ix_tickets_search_document",
        "tickets",
        ["search_document"],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_index("ix_ticket_comments_search", table_name="ticket_comments", postgresql_using="gin")
    op.drop_column("ticket_comments", "search")


def downgrade() -> None:
    op.add_column(
        "ticket_comments",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple'::regconfig, body)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_ticket_comments_search",
        "ticket_comments",
        ["search"],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_index("ix_tickets_search_document", table_name="tickets", postgresql_using="gin")
    for trigger, table in (
        ("ticket_comments_search_delete", "ticket_comments"),
        ("ticket_comments_search_update", "ticket_comments"),
        ("ticket_comments_search_insert", "ticket_comments"),
        ("tickets_search_subject", "tickets"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in (
        "ticket_comments_search_refresh()",
        "ticket_comments_search_append()",
        "tickets_search_subject()",
        "refresh_search_documents(bigint[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP AGGREGATE search_document_agg(tsvector)")
    op.execute("DROP FUNCTION tsvector_append(tsvector, tsvector)")
    op.execute("DROP FUNCTION search_vector(text)")
    op.drop_column("tickets", "public_search_document")
    op.drop_column("tickets", "search_document")
