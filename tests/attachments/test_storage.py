import pytest

from helpdesk_api.attachments.storage import LocalStorage


async def collect(storage: LocalStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key)])


async def test_save_open_and_delete_round_trip(tmp_path):
    storage = LocalStorage(tmp_path)

    async def chunks():
        yield b"hello "
        yield b"world"

    stored = await storage.save(chunks())
    assert stored.size == 11
    assert await collect(storage, stored.key) == b"hello world"
    await storage.delete(stored.key)
    with pytest.raises(FileNotFoundError):
        await storage.open(stored.key)


async def test_failing_stream_leaves_no_file(tmp_path):
    storage = LocalStorage(tmp_path)

    async def chunks():
        yield b"x" * 2_000_000
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await storage.save(chunks())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


async def test_keys_that_are_not_storage_keys_are_refused(tmp_path):
    storage = LocalStorage(tmp_path)
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.open("../../etc/passwd")
