"""The numerical engine of tlprobe (MODEL.md): pure numpy/scipy, explicit seeds.

Nothing here touches Redis, settings or logging configuration. ``SCIENCE_VERSION`` is part of
every cache and artifact key: bump it whenever a change alters any number the engine returns.
"""

SCIENCE_VERSION = "1"
