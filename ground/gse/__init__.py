"""Ground support equipment: the payload-board emulator and its transports."""
