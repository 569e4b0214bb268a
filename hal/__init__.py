"""Hardware abstraction: device ports, the registry that builds them, and their backends.

``flight`` sees hardware only through the ports in :mod:`hal.interfaces`; which backend
stands behind them (``sim`` today, ``serial`` for the bench) is a line in a hardware YAML.
"""
