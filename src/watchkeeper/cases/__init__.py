"""Cases: alerts promoted to incidents, worked with tasks, comments and a timeline."""
