"""The MCP server: tools for coding agents, over the control socket of a running stack."""
