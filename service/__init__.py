"""tlprobe HTTP service: validates requests, answers from the cache, queues the rest to RQ workers.

HTTP only: the app, routes, dependencies, access, middleware, metrics and rendering. The job layer
lives in ``tlprobe``; nothing numerical is imported at start-up and ``worker`` is never imported.
"""
