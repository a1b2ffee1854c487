"""Settings from the environment, as AutoGPT's backend has them (pydantic-settings)."""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str = "sqlite://"
    s3_bucket: str = "agents"


settings = Settings()
