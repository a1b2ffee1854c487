"""Request schemas of the heavy app."""

from pydantic import BaseModel, EmailStr


class AgentIn(BaseModel):
    name: str
    owner: EmailStr
