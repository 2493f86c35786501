"""Threat intelligence: an indicator store fed by STIX/TAXII, MISP and lists, matched
against every event, and shared back as STIX."""
