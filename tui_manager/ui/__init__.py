"""The Textual dashboard: a view of the engine's event stream (never reaching into processes)."""
