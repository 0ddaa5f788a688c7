"""Where attachment bytes live. The database holds only metadata and the storage key.

Files are written before the database row exists and outside its transaction. If the request
fails after the file is stored (the insert fails, or the commit does), the upload path deletes
the file when it can; a crash or a failed commit can still leave an orphan file no row names.
Orphans are harmless (no row, so no URL reaches them) and only cost disk space; a sweep
comparing keys with ``attachments.storage_key`` may remove them. Likewise ``tmp/*.part`` files
left by a crash mid-upload.
"""

import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

import anyio
import anyio.to_thread

_KEY = re.compile(r"^[0-9a-f]{32}$")
# Bytes gathered before a write, so the thread hop is paid per mebibyte, not per ASGI chunk.
_WRITE_BUFFER = 1024 * 1024
_READ_CHUNK = 64 * 1024


class StoredFile(NamedTuple):
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    async def save(self, stream: AsyncIterable[bytes]) -> StoredFile:
        """Store the whole stream, or nothing if the stream raises (the error propagates)."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes in chunks; raises FileNotFoundError before the first chunk."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        ...


class LocalStorage:
    """Files under ``root/ab/cd/abcd…`` with random keys.

    Random rather than content-addressed keys: deleting one attachment can never remove bytes
    another row still names, so no reference counting is needed. The client's filename never
    reaches the file system.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path_for(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    async def save(self, stream: AsyncIterable[bytes]) -> StoredFile:
        key = secrets.token_hex(16)
        final = self.path_for(key)
        # Inside root, so the rename below stays on one file system and is atomic.
        partial = self.tmp / f"{key}.part"
        await anyio.to_thread.run_sync(lambda: self.tmp.mkdir(parents=True, exist_ok=True))
        file: BinaryIO = await anyio.to_thread.run_sync(partial.open, "xb")
        digest = hashlib.sha256()
        size = 0
        try:
            buffer = bytearray()
            async for chunk in stream:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if len(buffer) >= _WRITE_BUFFER:
                    await anyio.to_thread.run_sync(file.write, bytes(buffer))
                    buffer.clear()
            await anyio.to_thread.run_sync(_finish, file, bytes(buffer), partial, final)
        except BaseException:
            # Synchronous on purpose: runs even when the task is being cancelled.
            file.close()
            partial.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes]:
        file = await anyio.open_file(self.path_for(key), "rb")

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await file.read(_READ_CHUNK):
                    yield chunk
            finally:
                await file.aclose()

        return chunks()

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.path_for(key).unlink(missing_ok=True))


def _finish(file: BinaryIO, rest: bytes, partial: Path, final: Path) -> None:
    with file:
        file.write(rest)
        file.flush()
        os.fsync(file.fileno())
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, final)
