"""An import-heavy ASGI app, as real backends are: FastAPI, SQLAlchemy models, pydantic
schemas, pandas, an HTTP client and templates. Importing it cold takes over a second; the
reload bench edits VERSION and times until the new value is served."""

import boto3  # noqa: F401 (object storage, as AutoGPT's backend uses)
import httpx  # noqa: F401 (an outgoing-HTTP client, as most backends import)
import jinja2  # noqa: F401
import pandas as pd
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.security import OAuth2PasswordBearer
from models import Agent, Base, engine
from schemas import AgentIn
from settings import settings

VERSION = 0

app = FastAPI(title=f"heavy ({settings.s3_bucket})")
oauth2 = OAuth2PasswordBearer(tokenUrl="token")
Base.metadata.create_all(engine)


@app.get("/", response_class=PlainTextResponse)
def version() -> str:
    return str(VERSION)


@app.post("/agents")
def create(agent: AgentIn) -> dict[str, int]:
    frame = pd.DataFrame([agent.model_dump()])
    return {"rows": len(frame), "id": Agent.__table__.c.id.type.python_type(1)}
