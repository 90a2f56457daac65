"""A small module used only by the kernel's tests: it publishes events, reacts to them and runs jobs."""
