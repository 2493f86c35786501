"""Response: playbooks, the actions they run and the connectors those act through."""
