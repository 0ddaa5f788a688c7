from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from helpdesk_api.core.schemas import StrictModel
from helpdesk_api.users.schemas import TokenExpiry, TokenName


class Credentials(StrictModel):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    token_name: TokenName = "login"
    expires_at: TokenExpiry = None


class AccessToken(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: int
    token_id: int
    expires_at: datetime | None
