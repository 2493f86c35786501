"""Running the server: metrics, health, logs."""
