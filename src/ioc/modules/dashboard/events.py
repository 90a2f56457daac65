"""Events the `dashboard` module publishes: none (it only reads the picture; layout saves are audited)."""
