"""E-mail benchmark: inbound messages/s through `helpdesk-api smtp`, outbound sends/s per worker.

    python -m bench.mail [--quick] [--messages N] [--concurrency C] [--outbound N] [--pyspy]

Both against floors measured in the same run, on the bench's own PostgreSQL (bench/pg.py):

- inbound: C asyncio SMTP clients (aiosmtplib, one kept-open session each, in this process)
  send (a) new-ticket messages, (b) threaded replies to them, (c) new tickets with a 200 kB
  attachment to one `helpdesk-api smtp` process, then the same bytes to the floor: a bare
  aiosmtpd sink in its own process whose DATA handler INSERTs the raw message into a table
  with asyncpg (autocommit) before it answers 250. Afterwards every accepted message is
  checked in SQL (an inbound_emails row, status processed).
- outbound: N rows enqueued with `helpdesk_api.mail.outgoing.enqueue` while no worker runs,
  then one `helpdesk-api worker` drains them into an aiosmtpd sink that only counts; the
  floor sends the same raw bytes from this process with aiosmtplib at the worker's
  parallelism (4 connections), over kept-open sessions and with a connection per message.

`python -m bench.mail sink --port P [--database-url URL]` is the sink process itself.
"""

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
import psutil

from bench import pyspy
from bench.pg import BENCH_DIR, BenchPostgres, migrate_and_seed, recreate_database, service_env
from bench.report import machine

RESULTS = BENCH_DIR / "results"
MAILBOX = "support@help.example.com"
ATTACHMENT_BYTES = 200_000
# The default limit of new tickets per sender and hour is 20: the pool grows with the load so
# that no sender passes it (past it, mail joins the sender's latest ticket: another path).
NEW_TICKETS_PER_SENDER = 15
FLOOR_TABLE = "bench_mail_floor"
SPY_SECONDS = 20  # py-spy's window at most (the start of the phase): the raw file stays small
SAMPLES = 21  # messages of each kind whose statements are counted, one at a time
WORKER_RELAY_CONNECTIONS = 4  # helpdesk_api.mail.sending.MAX_CONNECTIONS
MAIL_STEPS = (
    "receive", "process_inbound", "parse_message", "visible_reply", "detect_language",
    "sender_user", "find_candidate", "open_ticket", "add_comment", "commit_change",
    "store_received_file", "Notifier.__call__", "enqueue", "compose", "thread_headers",
    "record_event", "AsyncSession.flush", "AsyncSession.commit", "AsyncSession.execute",
    "AsyncSession.scalar", "greenlet_spawn", "SMTP._handle_client", "SMTP.smtp_DATA",
)  # fmt: skip


def log(message: str) -> None:
    print(f"[mail {time.strftime('%H:%M:%S')}] {message}", flush=True)


# The sink process: aiosmtpd that counts, or INSERTs each message before its 250 (the floor).


async def _sink(port: int, database_url: str | None) -> None:
    from aiosmtpd.smtp import SMTP

    pool = None
    if database_url:
        pool = await asyncpg.create_pool(database_url, min_size=2, max_size=32)
    counts = {"messages": 0, "bytes": 0}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            raw = envelope.original_content or b""
            if pool is not None:
                await pool.execute(f"INSERT INTO {FLOOR_TABLE} (raw) VALUES ($1)", raw)
            counts["messages"] += 1
            counts["bytes"] += len(raw)
            return "250 OK"

    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.bench", ident="sink", enable_SMTPUTF8=True),
        "127.0.0.1",
        port,
    )
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()
    if pool is not None:
        await pool.close()
    print(json.dumps(counts), flush=True)


def start_sink(port: int, database_url: str | None = None) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "bench.mail", "sink", "--port", str(port)]
    if database_url:
        args += ["--database-url", database_url]
    process = subprocess.Popen(args, cwd=BENCH_DIR.parent, stdout=subprocess.PIPE)
    wait_smtp(port, process)
    return process


def stop_sink(process: subprocess.Popen[bytes]) -> dict[str, int]:
    process.terminate()
    out, _ = process.communicate(timeout=30)
    lines = out.decode().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_smtp(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SMTP process on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(512).startswith(b"220"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"SMTP on port {port} did not greet within {timeout} s")


def helpdesk(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`helpdesk-api <command>` from this checkout's sources (PYTHONPATH), as deployed."""
    return subprocess.Popen([sys.executable, "-m", "helpdesk_api", command], env=env)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# CPU seconds of the processes involved, around a measured window.


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _cpu_of(pid: int, recursive: bool = True) -> dict[int, float]:
    seen: dict[int, float] = {}
    for process in _tree(pid) if recursive else [psutil.Process(pid)]:
        try:
            t = process.cpu_times()
            seen[process.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return seen


class CpuWindow:
    """CPU seconds of named process trees over a window; ``load`` is this process alone (its
    children are the servers measured), ``other`` the machine's busy time outside them all
    (other tenants of a shared machine)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before = {name: self._cpu(name) for name in pids}
        self.machine = psutil.cpu_times()

    def _cpu(self, name: str) -> dict[int, float]:
        return _cpu_of(self.pids[name], recursive=name != "load")

    def seconds(self) -> dict[str, float]:
        result = {}
        for name in self.pids:
            after, before = self._cpu(name), self.before[name]
            result[name] = round(sum(v - before.get(p, 0.0) for p, v in after.items()), 3)
        now = psutil.cpu_times()
        idle = now.idle - self.machine.idle
        busy = sum(now) - sum(self.machine) - idle
        result["other"] = round(busy - sum(result.values()), 3)
        result["machine_busy_pct"] = round(100 * busy / max(busy + idle, 1e-9), 1)
        return result


# Messages


@dataclass(frozen=True)
class Mail:
    sender: str
    raw: bytes
    message_id: str
    subject: str = ""


def _raw(
    sender: str,
    name: str,
    subject: str,
    body: str,
    message_id: str,
    *,
    in_reply_to: str | None = None,
    attachment: bytes | None = None,
) -> bytes:
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = f"{name} <{sender}>"
    mail["To"] = f"Help Desk <{MAILBOX}>"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
        mail["References"] = f"<{in_reply_to}>"
    mail.set_content(body)
    if attachment is not None:
        mail.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="invoice-scan.pdf"
        )
    return bytes(mail)


BODY = (
    "Hello,\n\nthe printer on the second floor stopped printing this morning after the "
    "update. It shows error {n} and the queue is stuck. Could you have a look?\n\n"
    "Thanks,\n{name}\n"
)
REPLY = (
    "Thanks for the quick answer. I restarted it as you said, but error {n} came back "
    "after two pages.\n\n{name}\n\nOn Monday, Help Desk wrote:\n> Please restart the "
    "printer and tell us if the error comes back.\n"
)


def build_messages(new: int, attachments: int, warmup: int) -> tuple[dict[str, list[Mail]], int]:
    """Phase (a) new tickets, (b) one reply to each, (c) new tickets with an attachment; and
    warm-up messages (new tickets) sent before each target's first window."""
    run = os.urandom(4).hex()
    senders = max(200, -(-(new + attachments + 2 * warmup) // NEW_TICKETS_PER_SENDER))

    def who(i: int) -> tuple[str, str]:
        n = i % senders
        return f"customer{n:04d}@example.org", f"Customer {n:04d}"

    def new_ticket(kind: str, i: int, attachment: bytes | None = None) -> Mail:
        sender, name = who(i)
        message_id = f"bench-{kind}-{run}-{i}@client.example.org"
        subject = f"Printer error {i} on floor 2"
        body = BODY.format(n=i, name=name)
        raw = _raw(sender, name, subject, body, message_id, attachment=attachment)
        return Mail(sender, raw, message_id, subject)

    phase_a = [new_ticket("new", i) for i in range(new)]
    replies = []
    for i, original in enumerate(phase_a):
        _, name = who(i)
        message_id = f"bench-reply-{run}-{i}@client.example.org"
        raw = _raw(
            original.sender,
            name,
            f"Re: {original.subject}",
            REPLY.format(n=i, name=name),
            message_id,
            in_reply_to=original.message_id,
        )
        replies.append(Mail(original.sender, raw, message_id))
    phase_c = [
        new_ticket("attachment", new + i, os.urandom(ATTACHMENT_BYTES)) for i in range(attachments)
    ]
    return {
        "new_ticket": phase_a,
        "reply": replies,
        "attachment": phase_c,
        "warmup": [new_ticket("warmup", new + attachments + i) for i in range(2 * warmup)],
    }, senders


# The SMTP clients


@dataclass
class Drive:
    accepted: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0


async def drive(port: int, mails: list[Mail], concurrency: int) -> Drive:
    """C clients, each over one kept-open SMTP session, take the next message until none is
    left; each message's DATA→250 time is its latency."""
    result = Drive()
    todo = iter(mails)

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=120)
        await smtp.connect()
        await smtp.ehlo()
        try:
            for mail in todo:
                try:
                    await smtp.mail(mail.sender)
                    await smtp.rcpt(MAILBOX)
                    started = time.perf_counter()
                    await smtp.data(mail.raw)
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                    result.accepted += 1
                except aiosmtplib.SMTPResponseException as exc:
                    result.errors.append(f"{exc.code} {exc.message}")
                    await smtp.rset()
        finally:
            await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 2)


def summary(run: Drive, cpu: dict[str, float]) -> dict[str, Any]:
    n = max(run.accepted, 1)
    return {
        "messages": run.accepted,
        "errors": len(run.errors),
        "error_samples": sorted(set(run.errors))[:5],
        "seconds": round(run.seconds, 3),
        "messages_per_s": round(run.accepted / run.seconds, 1) if run.seconds else None,
        "p50_ms": round(statistics.median(run.latencies_ms), 2) if run.latencies_ms else None,
        "p99_ms": _pct(run.latencies_ms, 0.99),
        "cpu_s": cpu,
        "cpu_ms_per_message": {
            k: round(v / n * 1000, 2) for k, v in cpu.items() if not k.startswith("machine")
        },
    }


# py-spy on a process for as long as a window lasts (SIGINT makes it write its file)


class Spy:
    def __init__(self, pid: int, output: Path) -> None:
        binary = str(Path(sys.executable).parent / "py-spy")
        self.output = output
        self.process = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--rate", "250", "--nonblocking",
             "--duration", str(SPY_SECONDS), "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # attached before the window starts

    def stop(self) -> dict[str, Any] | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None
        if not self.output.exists():
            return None
        return summarize_spy(self.output)


def summarize_spy(raw: Path) -> dict[str, Any]:
    """Self CPU by package, inclusive CPU by step of the mail path, the top functions."""
    by_owner: dict[str, int] = {}
    by_step: dict[str, int] = {}
    by_leaf: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [f for f in stack.split(";") if pyspy._FRAME.search(f)]
        if not frames:
            continue
        count = int(count_text)
        total += count
        leaf = frames[-1]
        owner = pyspy._owner(leaf)
        if owner == "stdlib" and leaf.startswith(("select ", "_run_once ", "run_forever ")):
            owner = "event loop (waiting or I/O)"
        by_owner[owner] = by_owner.get(owner, 0) + count
        key = f"{leaf.split(' (', 1)[0]} [{pyspy._owner(leaf)}]"
        by_leaf[key] = by_leaf.get(key, 0) + count
        names = {f.split(" (", 1)[0] for f in frames}
        for step in MAIL_STEPS:
            if step in names:
                by_step[step] = by_step.get(step, 0) + count

    def share(counter: dict[str, int], limit: int) -> dict[str, float]:
        top = sorted(counter.items(), key=lambda kv: -kv[1])[:limit]
        return {k: round(v / max(total, 1) * 100, 1) for k, v in top}

    return {
        "samples": total,
        "self_cpu_pct_by_package": share(by_owner, 15),
        "inclusive_cpu_pct_by_step": share(by_step, len(MAIL_STEPS)),
        "top_self_functions_pct": share(by_leaf, 15),
    }


# Inbound


async def _add_mailbox(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "INSERT INTO email_channels (name, address, display_name) "
                "VALUES ('Support', $1, 'Help Desk') RETURNING id",
                MAILBOX,
            )
        )
    finally:
        await conn.close()


async def inbound(
    server_url: str, postmaster: int, args: argparse.Namespace, stamp: str
) -> dict[str, Any]:
    url = await recreate_database(server_url, "bench_mail")
    await migrate_and_seed(url)
    await _add_mailbox(url)
    conn = await asyncpg.connect(url)
    await conn.execute(
        f"CREATE TABLE {FLOOR_TABLE} (id bigserial PRIMARY KEY, "
        "received_at timestamptz NOT NULL DEFAULT now(), raw bytea NOT NULL)"
    )
    attachments_dir = BENCH_DIR / ".data" / "mail-attachments"
    shutil.rmtree(attachments_dir, ignore_errors=True)
    log(f"building messages: {args.messages} new, {args.messages} replies, "
        f"{args.attachments} with {ATTACHMENT_BYTES // 1000} kB attachments")  # fmt: skip
    mails, senders = build_messages(args.messages, args.attachments, args.concurrency)
    warmup = mails.pop("warmup")

    ours_port, floor_port = free_port(), free_port()
    env = service_env(url) | {
        "HELPDESK_SMTP_LISTEN_HOST": "127.0.0.1",
        "HELPDESK_SMTP_LISTEN_PORT": str(ours_port),
        "HELPDESK_DATA_DIR": str(attachments_dir),
    }
    listener = helpdesk("smtp", env)
    floor = None
    phases: dict[str, Any] = {}
    spy_summary = None
    try:
        wait_smtp(ours_port, listener)
        floor = start_sink(floor_port, url)
        log(f"listener on {ours_port} (pid {listener.pid}), floor sink on {floor_port}")
        half = len(warmup) // 2
        for port, part in ((ours_port, warmup[:half]), (floor_port, warmup[half:])):
            await drive(port, part, args.concurrency)
        for phase in ("new_ticket", "reply", "attachment"):
            spy = None
            if args.pyspy and phase == "new_ticket":
                spy = Spy(listener.pid, RESULTS / f"{stamp}-mail-pyspy-listener.raw.txt")
            window = CpuWindow(
                {"listener": listener.pid, "postgres": postmaster, "load": os.getpid()}
            )
            ours = await drive(ours_port, mails[phase], args.concurrency)
            ours_summary = summary(ours, window.seconds())
            if spy is not None:
                spy_summary = spy.stop()
            window = CpuWindow({"sink": floor.pid, "postgres": postmaster, "load": os.getpid()})
            floored = await drive(floor_port, mails[phase], args.concurrency)
            floor_summary = summary(floored, window.seconds())
            ratio = None
            if ours_summary["messages_per_s"] and floor_summary["messages_per_s"]:
                ratio = round(ours_summary["messages_per_s"] / floor_summary["messages_per_s"], 3)
            phases[phase] = {"ours": ours_summary, "floor": floor_summary, "ratio": ratio}
            log(
                f"{phase}: ours {ours_summary['messages_per_s']}/s p50 {ours_summary['p50_ms']}"
                f" p99 {ours_summary['p99_ms']} ms, floor {floor_summary['messages_per_s']}/s,"
                f" ratio {ratio}"
            )
    finally:
        stop_process(listener)
        if floor is not None:
            stop_sink(floor)

    accepted = half + sum(p["ours"]["messages"] for p in phases.values())
    rows = await conn.fetch(
        "SELECT status, outcome, count(*) AS n FROM inbound_emails GROUP BY 1, 2 ORDER BY 3 DESC"
    )
    facts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM inbound_emails) AS inbound_rows, "
        "(SELECT count(*) FROM inbound_emails WHERE status = 'processed') AS processed, "
        "(SELECT count(*) FROM inbound_emails WHERE status <> 'processed') AS not_processed, "
        "(SELECT count(*) FROM tickets) AS tickets, "
        "(SELECT count(*) FROM ticket_comments) AS comments, "
        "(SELECT count(*) FROM attachments) AS attachments, "
        "(SELECT count(*) FROM users) AS users, "
        "(SELECT count(*) FROM outbound_emails WHERE kind = 'acknowledgement') "
        "AS acknowledgements_queued, "
        f"(SELECT count(*) FROM {FLOOR_TABLE}) AS floor_rows"
    )
    errors = await conn.fetch(
        "SELECT error, count(*) AS n FROM inbound_emails WHERE error IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
    )
    await conn.close()
    statements = await count_statements(url, attachments_dir)
    log(f"statements per message: {statements}")
    verification = {
        "accepted_by_listener": accepted,
        **{k: int(v) for k, v in facts.items()},
        "by_status_outcome": {f"{r['status']}/{r['outcome']}": int(r["n"]) for r in rows},
        "errors": {r["error"]: int(r["n"]) for r in errors},
        "ok": int(facts["inbound_rows"]) == accepted and int(facts["not_processed"]) == 0,
    }
    log(f"verification: {verification}")
    result: dict[str, Any] = {
        "settings": {
            "concurrency": args.concurrency,
            "new_ticket_messages": args.messages,
            "reply_messages": args.messages,
            "attachment_messages": args.attachments,
            "attachment_bytes": ATTACHMENT_BYTES,
            "warmup_messages_per_target": half,
            "senders": senders,
            "mailbox_acknowledge": True,
            "message_bytes": {
                phase: round(statistics.mean(len(m.raw) for m in mails[phase])) for phase in mails
            },
            "database": "fresh `bench_mail`: migrations, one admin, one mailbox; grows only "
            "by what this run sends",
        },
        "phases": phases,
        "verification": verification,
        "statements_per_message": statements,
    }
    if spy_summary is not None:
        result["pyspy_listener_new_ticket"] = spy_summary
    return result


async def count_statements(url: str, data_dir: Path) -> dict[str, Any]:
    """The statements one message costs, by kind: the listener's own ``MailHandler._store``
    (what its DATA handler runs) in this process, one message at a time, the first of each
    kind left out (caches warm); its CPU is the mean over the rest. BEGIN and COMMIT are not
    cursor executions: add two."""
    from aiosmtpd.smtp import Envelope
    from sqlalchemy import event

    from helpdesk_api.assembly import connect
    from helpdesk_api.core.settings import Settings
    from helpdesk_api.mail.smtp_listener import MailboxDirectory, MailHandler

    settings = Settings(database_url=url, data_dir=data_dir)
    engine, sessions = connect(url, settings=settings, pool_size=1, max_overflow=0)
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    handler = MailHandler(settings, sessions, MailboxDirectory(sessions))
    mails, _ = build_messages(SAMPLES, SAMPLES, 0)
    result: dict[str, Any] = {}
    try:
        for kind in ("new_ticket", "reply", "attachment"):
            cpu = 0.0
            for n, mail in enumerate(mails[kind]):
                envelope = Envelope()
                envelope.mail_from = mail.sender
                envelope.rcpt_tos = [MAILBOX]
                seen.clear()
                started = time.process_time()
                await handler._store(mail.raw, envelope)
                if n:
                    cpu += time.process_time() - started
            verbs: dict[str, int] = {}
            for verb in seen:
                verbs[verb] = verbs.get(verb, 0) + 1
            result[kind] = {
                "statements": len(seen),
                "by_verb": verbs,
                "cpu_ms_in_process": round(cpu / (len(mails[kind]) - 1) * 1000, 2),
            }
    finally:
        await engine.dispose()
    return result


# Outbound


async def _enqueue(url: str, count: int) -> None:
    from helpdesk_api.assembly import connect
    from helpdesk_api.core.settings import Settings
    from helpdesk_api.mail.outgoing import OutboundRecipient, OutgoingMail, enqueue
    from helpdesk_api.models import EmailChannel

    settings = Settings(database_url=url)
    engine, sessions = connect(url, settings=settings, pool_size=2, max_overflow=0)
    try:
        done = 0
        while done < count:
            async with sessions() as session, session.begin():
                mailbox = (await session.scalars(select_mailbox(EmailChannel))).one()
                for i in range(done, min(count, done + 200)):
                    n = i % 200
                    await enqueue(
                        session,
                        OutgoingMail(
                            kind="public_reply",
                            recipient=OutboundRecipient(
                                f"customer{n:04d}@example.org", f"Customer {n:04d}"
                            ),
                            subject=f"Re: Printer error {i} on floor 2",
                            text=(
                                f"Hello Customer {n:04d},\n\nwe replaced the fuser unit; error "
                                f"{i} should not come back. Tell us if it does.\n\nHelp Desk\n"
                            ),
                        ),
                        settings=settings,
                        now=datetime.now(UTC),
                        channel=mailbox,
                    )
            done = min(count, done + 200)
    finally:
        await engine.dispose()


def select_mailbox(model: Any) -> Any:
    from sqlalchemy import select

    return select(model).where(model.address == MAILBOX)


async def _send_floor(
    port: int, rows: list[asyncpg.Record], parallel: int, reuse: bool
) -> tuple[int, float]:
    todo = iter(rows)
    sent = 0

    async def kept_open() -> None:
        nonlocal sent
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await smtp.connect()
        for row in todo:
            await smtp.sendmail(row["mail_from"], list(row["recipients"]), bytes(row["raw"]))
            sent += 1
        await smtp.quit()

    async def per_message() -> None:
        nonlocal sent
        for row in todo:
            await aiosmtplib.send(
                bytes(row["raw"]),
                sender=row["mail_from"],
                recipients=list(row["recipients"]),
                hostname="127.0.0.1",
                port=port,
                timeout=60,
            )
            sent += 1

    started = time.perf_counter()
    await asyncio.gather(*((kept_open if reuse else per_message)() for _ in range(parallel)))
    return sent, time.perf_counter() - started


async def outbound(
    server_url: str, postmaster: int, args: argparse.Namespace, stamp: str
) -> dict[str, Any]:
    url = await recreate_database(server_url, "bench_mail_outbound")
    await migrate_and_seed(url)
    await _add_mailbox(url)
    log(f"enqueueing {args.outbound} outbox rows")
    await _enqueue(url, args.outbound)
    conn = await asyncpg.connect(url)
    port = free_port()
    sink = start_sink(port)
    worker = None
    try:
        env = service_env(url) | {
            "HELPDESK_SMTP_HOST": "127.0.0.1",
            "HELPDESK_SMTP_PORT": str(port),
            "HELPDESK_SMTP_SECURITY": "none",
        }
        window = CpuWindow({"sink": sink.pid, "postgres": postmaster, "load": os.getpid()})
        spawned = time.perf_counter()
        worker = helpdesk("worker", env)
        spy = None
        deadline = time.monotonic() + 60 + args.outbound / 5
        state = None
        first: tuple[int, float] | None = None  # sent, worker CPU when the first was sent
        while time.monotonic() < deadline:
            state = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE status = 'sent') AS sent, "
                "count(*) FILTER (WHERE status = 'failed') AS failed, "
                "min(sent_at) AS first, max(sent_at) AS last FROM outbound_emails"
            )
            if first is None and state["sent"]:
                first = (int(state["sent"]), sum(_cpu_of(worker.pid).values()))
                if args.pyspy:
                    spy = Spy(worker.pid, RESULTS / f"{stamp}-mail-pyspy-worker.raw.txt")
            if state["sent"] + state["failed"] >= args.outbound:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - spawned
        worker_cpu = sum(_cpu_of(worker.pid).values())
        cpu = window.seconds()
        cpu["other"] = round(cpu["other"] - worker_cpu, 3)  # born inside the window
        spy_summary = spy.stop() if spy is not None else None
        stop_process(worker)
        worker = None
        assert state is not None
        sent, failed = int(state["sent"]), int(state["failed"])
        steady = (state["last"] - state["first"]).total_seconds() if sent > 1 else 0.0
        ours = {
            "sent": sent,
            "failed": failed,
            "not_sent": args.outbound - sent - failed,
            "seconds_from_spawn": round(elapsed, 3),
            "sends_per_s_from_spawn": round(sent / elapsed, 1),
            "seconds_first_to_last_sent_at": round(steady, 3),
            "sends_per_s": round((sent - 1) / steady, 1) if steady else None,
            "cpu_s": {"worker": round(worker_cpu, 3), **cpu},
            # From the first send on: the start-up (imports, connections) left out.
            "worker_cpu_ms_per_send": round(
                (worker_cpu - first[1]) / max(sent - first[0], 1) * 1000, 2
            )
            if first
            else None,
        }
        log(f"worker: {ours}")

        times = [
            r["sent_at"]
            for r in await conn.fetch(
                "SELECT sent_at FROM outbound_emails WHERE sent_at IS NOT NULL ORDER BY sent_at"
            )
        ]
        gaps = [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(times)]
        # The worker refills its relay slots once per loop: sends come in bursts between pauses.
        ours["gaps_ms_between_sends"] = {
            "p50": _pct(gaps, 0.5),
            "p90": _pct(gaps, 0.9),
            "over_40ms": sum(g > 40 for g in gaps),
        }
        rows = await conn.fetch(
            "SELECT mail_from, recipients, raw FROM outbound_emails ORDER BY id"
        )
        floors = {}
        for name, reuse in (("kept_open", True), ("connection_per_message", False)):
            window = CpuWindow({"sink": sink.pid, "load": os.getpid()})
            count, seconds = await _send_floor(port, rows, WORKER_RELAY_CONNECTIONS, reuse)
            floors[name] = {
                "sent": count,
                "seconds": round(seconds, 3),
                "sends_per_s": round(count / seconds, 1),
                "cpu_s": window.seconds(),
                "sender_cpu_ms_per_send": None,
            }
            cpu_floor = floors[name]["cpu_s"]
            floors[name]["sender_cpu_ms_per_send"] = round(cpu_floor["load"] / count * 1000, 2)
            log(f"floor {name}: {floors[name]}")
    finally:
        if worker is not None:
            stop_process(worker)
        counts = stop_sink(sink)
        await conn.close()
    expected = sent + 2 * len(rows)
    return {
        "settings": {
            "rows": args.outbound,
            "relay_connections": WORKER_RELAY_CONNECTIONS,
            "worker_concurrency_setting": 16,
            "message_bytes": round(statistics.mean(len(r["raw"]) for r in rows)),
            "database": "fresh `bench_mail_outbound`: migrations, one admin, one mailbox, "
            "the outbox rows",
        },
        "ours": ours,
        "floors": floors,
        "ratio_kept_open": round(ours["sends_per_s"] / floors["kept_open"]["sends_per_s"], 3)
        if ours["sends_per_s"]
        else None,
        "ratio_connection_per_message": round(
            ours["sends_per_s"] / floors["connection_per_message"]["sends_per_s"], 3
        )
        if ours["sends_per_s"]
        else None,
        "sink": {**counts, "expected": expected, "ok": counts.get("messages") == expected},
        **({"pyspy_worker": spy_summary} if spy_summary else {}),
    }


# Report


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"# Mail bench {report['started_at']} ({'quick' if report['quick'] else 'full'})",
        "",
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"PostgreSQL {m['postgres']}; load avg before {report['loadavg_1m_before']}.",
        "",
    ]
    inbound_part = report.get("inbound")
    if inbound_part:
        s = inbound_part["settings"]
        lines += [
            f"## Inbound: one `helpdesk-api smtp`, {s['concurrency']} SMTP clients "
            f"(kept-open sessions), {s['senders']} senders",
            "",
            "| phase | messages | msg/s | p50 ms | p99 ms | floor msg/s | floor p50 / p99 ms"
            " | ratio | CPU ms/msg listener / PG / load / other | floor CPU ms/msg sink / PG / load"
            " / other | errors |",
            "|---|---:|---:|---:|---:|---:|---|---:|---|---|---:|",
        ]
        for phase, p in inbound_part["phases"].items():
            o, f = p["ours"], p["floor"]
            oc, fc = o["cpu_ms_per_message"], f["cpu_ms_per_message"]
            lines.append(
                f"| {phase} ({s['message_bytes'][phase]:,} B) | {o['messages']} | "
                f"{o['messages_per_s']} | {o['p50_ms']} | {o['p99_ms']} | "
                f"{f['messages_per_s']} | {f['p50_ms']} / {f['p99_ms']} | **{p['ratio']}** | "
                f"{oc['listener']} / {oc['postgres']} / {oc['load']} / {oc['other']} | "
                f"{fc['sink']} / {fc['postgres']} / {fc['load']} / {fc['other']} | "
                f"{o['errors']} + {f['errors']} |"
            )
        v = inbound_part["verification"]
        lines += [
            "",
            f"Verification: {v['accepted_by_listener']} accepted (warm-up included), "
            f"{v['inbound_rows']} inbound_emails rows, {v['processed']} processed, "
            f"{v['not_processed']} not; {v['tickets']} tickets, {v['comments']} comments, "
            f"{v['attachments']} attachments, {v['acknowledgements_queued']} acknowledgements "
            f"queued; outcomes {v['by_status_outcome']}; **{'OK' if v['ok'] else 'MISMATCH'}**.",
            "",
            "Statements per message (the listener's handler in process, warm; + BEGIN and "
            "COMMIT): "
            + ", ".join(
                f"{kind} {c['statements']} ({c['cpu_ms_in_process']} ms CPU alone)"
                for kind, c in inbound_part["statements_per_message"].items()
            )
            + ".",
            "",
        ]
    out = report.get("outbound")
    if out:
        o, f = out["ours"], out["floors"]
        lines += [
            f"## Outbound: one `helpdesk-api worker`, {out['settings']['rows']} rows "
            f"({out['settings']['message_bytes']:,} B each), "
            f"{out['settings']['relay_connections']} relay connections",
            "",
            "| | sends/s | seconds | CPU ms/send (sender) |",
            "|---|---:|---:|---:|",
            f"| worker (first to last `sent_at`) | {o['sends_per_s']} | "
            f"{o['seconds_first_to_last_sent_at']} | {o['worker_cpu_ms_per_send']} |",
            f"| worker (from process spawn) | {o['sends_per_s_from_spawn']} | "
            f"{o['seconds_from_spawn']} | |",
            f"| floor: kept-open sessions | {f['kept_open']['sends_per_s']} | "
            f"{f['kept_open']['seconds']} | {f['kept_open']['sender_cpu_ms_per_send']} |",
            f"| floor: a connection per message | {f['connection_per_message']['sends_per_s']} | "
            f"{f['connection_per_message']['seconds']} | "
            f"{f['connection_per_message']['sender_cpu_ms_per_send']} |",
            "",
            f"Ratio ours / kept-open floor **{out['ratio_kept_open']}**, ours / "
            f"connection-per-message floor **{out['ratio_connection_per_message']}**. "
            f"Sent {o['sent']}, failed {o['failed']}, not sent {o['not_sent']}; the sink counted "
            f"{out['sink'].get('messages')} of {out['sink']['expected']} expected "
            f"(**{'OK' if out['sink']['ok'] else 'MISMATCH'}**).",
            "",
        ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    postgres = BenchPostgres()
    server_url = postgres.start()
    report: dict[str, Any] = {
        "started_at": stamp,
        "quick": args.quick,
        "loadavg_1m_before": round(os.getloadavg()[0], 2),
    }
    try:
        conn = await asyncpg.connect(server_url)
        version = await conn.fetchval("SHOW server_version")
        await conn.close()
        report["machine"] = machine(version)
        if not args.no_inbound:
            report["inbound"] = await inbound(server_url, postgres.postmaster_pid(), args, stamp)
        if args.outbound:
            report["outbound"] = await outbound(server_url, postgres.postmaster_pid(), args, stamp)
    finally:
        postgres.stop()
    name = f"{stamp}-mail{'-quick' if args.quick else ''}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report) + "\n")
    log(f"wrote {RESULTS / name}.json and .md")
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sink":
        sink_args = argparse.ArgumentParser()
        sink_args.add_argument("sink")
        sink_args.add_argument("--port", type=int, required=True)
        sink_args.add_argument("--database-url")
        parsed = sink_args.parse_args()
        asyncio.run(_sink(parsed.port, parsed.database_url))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few messages: a smoke run")
    parser.add_argument("--messages", type=int, help="new-ticket messages (and as many replies)")
    parser.add_argument("--attachments", type=int, help="messages with a 200 kB attachment")
    parser.add_argument("--concurrency", type=int, default=8, help="SMTP client connections")
    parser.add_argument("--outbound", type=int, help="outbox rows for the worker (0: skip)")
    parser.add_argument("--no-inbound", action="store_true")
    parser.add_argument("--pyspy", action="store_true", help="profile the listener and worker")
    parser.add_argument("--output", type=Path, help="results directory (default bench/results)")
    args = parser.parse_args()
    if args.output:
        RESULTS = args.output
    if args.messages is None:
        args.messages = 200 if args.quick else 2000
    if args.attachments is None:
        args.attachments = max(1, args.messages // 5)
    if args.outbound is None:
        args.outbound = 300 if args.quick else 3000
    outcome = asyncio.run(main(args))
    print(json.dumps({k: v for k, v in outcome.items() if k != "machine"}, indent=2, default=str))
