"""The contract between clients, the service and the workers: pure pydantic models, the one
definition of every request field, bound and cross-field rule (the engine takes these objects)."""
