"""The audit trail as the centre, admins and the province read it (issue 14).

- filters: who may read it (404 for everyone else), the filters, the page of events with each
  change as before → after (证件号码 masked);
- page_check: the chain's verdict on the events of one page (reusing services.audit's hashing);
- export: the filtered events as a streamed .xlsx, audited before the first byte;
- since_rejection: the fields a student changed since the latest rejection, for the reviewer.

services/audit.py (the chain) and services/audit_query.py (a record's 审核记录) stay where they
are; this package builds on them.
"""
