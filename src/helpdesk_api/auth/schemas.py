from typing import Annotated, Literal

from pydantic import BaseModel, Field

from helpdesk_api.core.schemas import StrictModel


class Credentials(StrictModel):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    token_name: Annotated[str, Field(min_length=1, max_length=100)] = "login"


class AccessToken(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: int
