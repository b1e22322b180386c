"""Telephony: calls from a PBX become Call Logs linked to the caller's record, and the
agent's open desk gets a screen pop (``publish_realtime("screen_pop", ...)``).

- ``numbers.py``: caller ID -> E.164, and the records with that number (indexed
  ``*_e164`` columns filled on save, never a LIKE scan).
- ``calls.py``: ``handle_call_event`` is the one path every call event takes
  (ringing / answered / ended), whichever PBX sent it; replays change nothing.
- ``ami.py``: the Asterisk Manager Interface listener (panoramisk, asyncio) the realtime
  service runs (``realtime_services`` hook), and the Originate of click-to-call.
- ``api.py``: the webhook of cloud PBXs, and the "Call" page of click-to-call.
Settings (AMI, agents' extensions, webhook token) are the single Telephony Settings.
"""
