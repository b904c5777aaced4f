"""Use cases: what users do (submit, review, import, export), built on the workflow runtime and models.

Services never import the HTTP layer; they raise service.errors and return plain data.
"""
