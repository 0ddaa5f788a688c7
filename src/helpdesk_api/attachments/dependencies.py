from typing import Annotated

from fastapi import Depends, Request

from helpdesk_api.attachments.storage import LocalStorage, Storage
from helpdesk_api.core.settings import Settings


async def get_storage(request: Request) -> Storage:
    """One storage per app, built from its settings on first use; tests may set their own."""
    storage: Storage | None = getattr(request.app.state, "attachment_storage", None)
    if storage is None:
        settings: Settings = request.app.state.settings
        storage = LocalStorage(settings.data_dir / "attachments")
        request.app.state.attachment_storage = storage
    return storage


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AttachmentStorage = Annotated[Storage, Depends(get_storage)]
AppSettings = Annotated[Settings, Depends(get_settings)]
