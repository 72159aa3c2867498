"""``scripts/develop``: the whole product on one machine.

A simulated farm (one printer of each kind), a real Home Assistant on
loopback with printfarm loaded, onboarded without the wizard, and every
simulated printer added through the real config flow. Nothing here talks to
anything but 127.0.0.1 once the first run has installed the frontend.
"""
