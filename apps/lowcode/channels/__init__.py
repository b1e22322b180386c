"""Channels: how the engine talks to the outside world (Frappe keeps these DocTypes in
its core too). ``webhooks`` posts document events to other systems."""
