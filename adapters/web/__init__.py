"""The web console (`/ui/`): server-rendered pages over the HTTP API's backend."""
