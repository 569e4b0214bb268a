"""The ground link: CCSDS packets out (downlink), telecommands in (uplink)."""
