"""The rules a running server detects with: folders from configuration, switched on and
off, tuned with exceptions and alert grouping through the API, reloaded on change."""
