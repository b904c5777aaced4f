"""The workflow runtime: SpiffWorkflow behind a safe evaluator and a spec-by-reference store.

Knows nothing of HTTP, users or the database: services above it decide who may do what.
"""
