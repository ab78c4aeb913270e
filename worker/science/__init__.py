"""The numerical engine of tlprobe (MODEL.md): pure numpy/scipy, explicit seeds.

Nothing here touches Redis, settings or logging configuration. The engine takes the validated
contract objects (``tlprobe.contract``) as its specification, so every request field and rule has
one definition. ``SCIENCE_VERSION`` (``tlprobe.versions``) is part of every cache and artifact key:
bump it whenever a change alters any number the engine returns.
"""

from tlprobe.versions import SCIENCE_VERSION

__all__ = ["SCIENCE_VERSION"]
