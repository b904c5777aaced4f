"""Measure the export and the sign-off PDF on synthetic records: time and peak RSS.

Run ``python -m service.documents.bench --rows 100000 --pages 500``; records are generated
lazily so the figure shows the writer's memory, not the input's.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from typing import Any

LABELS = {
    "gender": {"1": "男", "2": "女"},
    "ethnicity": {"01": "汉族", "02": "蒙古族", "03": "回族"},
    "political": {"01": "中共党员", "03": "共青团员", "13": "群众"},
    "education_level": {"31": "本科生毕业", "41": "专科生毕业"},
    "training_mode": {"1": "非定向", "2": "定向"},
    "normal_type": {"2": "非师范生"},
    "hardship": {"0": "非困难生", "2": "家庭困难"},
    "urban_rural": {"1": "城镇", "2": "农村"},
    "id_type": {"01": "居民身份证"},
    "region": {"440106": "广东省广州市天河区", "440304": "广东省深圳市福田区"},
}


def label_of(table: str, code: str) -> str | None:
    return LABELS.get(table, {}).get(code)


def mask_id(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else value


def synthetic_records(n: int) -> Iterator[dict[str, Any]]:
    """n plausible records, generated one at a time."""
    for i in range(n):
        yield {
            "school_code": "10559", "school_name": "暨南大学", "student_no": f"2017{i:08d}",
            "college": "信息科学技术学院", "major": "计算机科学与技术", "major_code": "080901",
            "class_name": f"计科{i % 9 + 1}班", "exam_no": f"17440106{i:06d}", "education_level": "31",
            "duration_years": 4.0, "enroll_date": "201709", "grad_date": "20210630", "training_mode": "1",
            "directed_unit": "", "normal_type": "2", "name": f"陈{'志伟晓明' [i % 4]}{i}",
            "gender": "1" if i % 2 else "2", "id_type": "01", "id_number": f"44010619990101{i % 10000:04d}",
            "ethnicity": "01", "political": "03", "origin_region": "440106" if i % 3 else "440304",
            "urban_rural": "1", "hardship": "0", "hukou_moved": bool(i % 2), "archive_moved": True,
            "current_hukou_region": "440106", "phone": f"138{i:08d}", "email": f"s{i}@stu.example.cn",
            "home_address": "广东省广州市天河区黄埔大道西601号", "remark": "",
            "review_status": "二级待审", "report_status": "已提交", "last_comment": "",
        }


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from service.documents.signoff_pdf import render_signoff_pdf
    from service.documents.xlsx_export import write_records_xlsx

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--pages", type=int, default=500)
    args = ap.parse_args()
    print(f"baseline peak RSS {peak_rss_mib():.0f} MiB")
    if args.rows:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "export.xlsx")
            t = time.perf_counter()
            n = write_records_xlsx(path, synthetic_records(args.rows), label_of, mask=mask_id)
            dt = time.perf_counter() - t
            size = os.path.getsize(path) / 2**20
        print(f"xlsx: {n} rows in {dt:.1f} s ({n / dt:,.0f} rows/s), {size:.1f} MiB, "
              f"peak RSS {peak_rss_mib():.0f} MiB")
    if args.pages:
        t = time.perf_counter()
        pdf = render_signoff_pdf(synthetic_records(args.pages), label_of, school_name="暨南大学", mask=mask_id)
        dt = time.perf_counter() - t
        print(f"pdf: {args.pages} pages in {dt:.2f} s, {len(pdf) / 2**20:.1f} MiB, peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
