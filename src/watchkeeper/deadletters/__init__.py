"""The dead-letter store: input that could not be taken, with why, to look at and replay."""
