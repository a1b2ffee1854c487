from dotenv import load_dotenv

load_dotenv()  # before anything else, as in the seed

from .app import main  # noqa: E402

raise SystemExit(main())
