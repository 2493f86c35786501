"""Alerts: what the detection engine found, deduplicated, scored by risk and triaged."""
