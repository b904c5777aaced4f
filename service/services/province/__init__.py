"""The province's own view (省级): every school's progress, a school's colleges, completed-record exports.

The province account reads only. It is not a BPMN lane and belongs to no school, so every record
query of the other roles matches nothing for it (Actor.record_filter); what it may read is here:
  overview.py  one row per school (bound, submitted, at each review level of the school's active
               version, rejected, complete, deadline) in a fixed number of grouped queries;
  drilldown.py one school's colleges (the centre's dashboard figures, for the province);
  export.py    the completed records of one school or of all, streamed in the national column
               order with full 证件号码 (what the centre's export gives), every export audited.
"""

from service.services.province.drilldown import SchoolDetail, school_detail
from service.services.province.export import completed_statuses, export_name, start_export
from service.services.province.overview import SORT_KEYS, Overview, SchoolRow, overview

__all__ = ["SORT_KEYS", "Overview", "SchoolDetail", "SchoolRow", "completed_statuses", "export_name",
           "overview", "school_detail", "start_export"]
