"""The deadline use case: the centre sets the school's deadline, extensions per college / student
and a resubmission window; the student services ask here whether editing or binding is open.

- policy: pure rules (which deadline applies to whom, what is open at an instant, parsing)
- store: read and change the settings, each change audited on the school's chain
"""
