"""What every task family shares: the TaskType base, scores, prompt helpers, reply parsing."""
