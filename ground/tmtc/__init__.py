"""The ground's side of the CCSDS link: decode downlink.bin (``thermine decode``), a live
console that watches telemetry and sends telecommands (``thermine ground``), and a
replay of a recorded downlink to a UDP port (``thermine ground replay``)."""
