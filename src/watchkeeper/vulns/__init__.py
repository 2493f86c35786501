"""Vulnerability management: packages found in code, images and hosts, matched against
OSV records; findings imported from other scanners; infrastructure-as-code checks."""
