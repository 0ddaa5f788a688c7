from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field


class AttachmentRead(BaseModel):
    """An uploaded file's metadata; comments embed it. Build with ``model_validate(row)``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_url(self) -> str:
        return f"/v1/attachments/{self.id}/content"
