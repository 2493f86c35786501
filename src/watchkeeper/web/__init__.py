"""The web UI: server-rendered pages, no build step, no CDN — it works with no internet."""
