"""The running server: services wired from settings, and the process that runs them."""
