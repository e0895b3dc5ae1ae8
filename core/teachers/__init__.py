"""The teacher side: backend base classes, the request engine, its cache, cost and setup."""
