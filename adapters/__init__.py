"""Everything that talks to the outside: chat platforms, LLM, identity, SSH, WinRM."""
