"""Notifications: messages to a role (an SLA breach escalated, …), read back by that role."""
