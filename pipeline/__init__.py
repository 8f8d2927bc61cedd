"""The neutral kernel: contracts, stages A-E, policy, tool registry, prompts."""
