"""The evaluation harness, the judge and the report."""
