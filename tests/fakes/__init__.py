"""Local fakes of the services the bot talks to, for tests (real HTTP on loopback where possible)."""
