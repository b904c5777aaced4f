"""代为提交: a reviewer completes a student's submit task while the student has no account.

A record a reviewer added (添加) belongs to a roster student who may never have bound; once such a
record is sent back (不同意) nobody could resubmit it. The BPMN says which submit tasks may be
completed on a student's behalf and by which lanes (the `on_behalf_roles` property, see
service.workflow.definitions); `policy` answers whether this reviewer may do it now, `submit` does it.
"""
