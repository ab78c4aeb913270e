"""Development tools: the local Redis starter and ``make run``'s launcher (not part of the API)."""
