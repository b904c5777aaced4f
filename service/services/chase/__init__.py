"""Chase lists (催办): the roster students someone has to chase, by state, with counts and exports.

states: which states there are, read from the deployed BPMN versions (plus 未绑定, from the roster).
query:  one filter (ChaseFilters) -> grouped counts, a page of rows, or every row (export, reminders).
export: the rows as a streamed .xlsx.
"""
