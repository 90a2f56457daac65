"""A kernel-test module with a demo activity that records when it starts and when it is cancelled."""
