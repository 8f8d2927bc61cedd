"""WinRM adapter: `PywinrmRemote` implements `domains.automation.ports.WindowsRemote` with pywinrm."""

from adapters.winrm.config import WinrmConfig
from adapters.winrm.remote import PywinrmRemote

__all__ = ["PywinrmRemote", "WinrmConfig"]
