"""Test helpers that stand between the product and real services."""
