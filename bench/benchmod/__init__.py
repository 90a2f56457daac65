"""A module loaded only by the kernel benchmark: one event subscriber and one job."""
