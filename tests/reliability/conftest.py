"""The reliability tests' fixtures. They are defined in `world.py` (the emulated world the faults
hit), which test modules import their helpers from: a conftest module cannot be imported by name,
since every test folder has one called `conftest`."""

from world import backoff, clean, deployed, engines, loaded, manifests, offline, waits

__all__ = ["backoff", "clean", "deployed", "engines", "loaded", "manifests", "offline", "waits"]
