"""SQLAlchemy models of the heavy app (project code: imported afresh by every restart)."""

from sqlalchemy import String, create_engine
from sqlalchemy.dialects import postgresql  # noqa: F401 (as an app targeting Postgres would)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    owner: Mapped[str] = mapped_column(String(100))


engine = create_engine("sqlite://")
