"""The HTTP API (aiohttp): REST, the WebSocket alert feed, health, readiness and metrics."""
