"""The Validator base, the cascade, its ledger, and replaying it (`germinate validate`)."""
