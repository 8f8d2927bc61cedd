"""The work: automation, assets, network, communication. Each domain declares a ToolSet."""
