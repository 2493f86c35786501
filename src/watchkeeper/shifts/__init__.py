"""Shifts and handovers: the 24/7 roster, which shift is on duty, and the report one shift
leaves the next (open alerts, notable changes, incidents and tasks), acknowledged once."""
