"""The printfarm detection add-on service.

One asyncio process: it finds the printers' cameras through Home Assistant's
registries, takes a frame per interval from each printing printer through HA's
camera proxy, runs the model in a thread pool (``inference``), judges the scores
with ``printfarm_detect.decision``, acts through HA's services and events, and
serves the printfarm integration's API and the ingress UI.
"""

__version__ = "0.1.0"
