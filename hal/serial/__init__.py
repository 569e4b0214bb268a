"""The serial backend: framing, packets, transport, link and the payload-board drivers.

The protocol itself (APIDs, services, layouts, error codes) is data in
:mod:`hal.serial.icd` and is written up for board developers in ``docs/icd.md``.
"""
