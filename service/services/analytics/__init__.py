"""Process analytics from the audit trail and the BPMN (issue 14): how long records wait in each
status, why and how often they are sent back, how much each reviewer reviews, the backlog of each
level over time, and the burn-down against the deadline with a projection.

- filters: who may see what (scope), the filter (school, college, major, reviewer, date range) and
  the status labels of the deployed process versions (nothing here names a status or a role);
- timeline: one streamed pass over a scope's status-changing events, ordered by (record, seq),
  turned into stays (a record in a status from one instant to the next change);
- durations, backlog, burndown: accumulators fed by that one pass;
- rejections, throughput: SQL aggregations (GROUP BY) over the review events;
- tables / export: the same figures as table rows (the page's tables, the .xlsx exports).

Days are calendar days in Beijing time; instants are stored as naive UTC.
"""
