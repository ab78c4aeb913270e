"""The contract between clients, the service and the workers: pure pydantic models.

``SCHEMA_VERSION`` changes when a request's meaning changes; ``SCIENCE_VERSION`` mirrors
``worker.science.SCIENCE_VERSION`` (a test fails if they drift) so that the service can key its
cache on the engine's version without importing the engine.
"""

SCHEMA_VERSION = "1"
SCIENCE_VERSION = "1"
