"""A reader process for the add-column figure: on its own connection of the site's
engine, it reads the Bench Lead list page again and again, one short transaction per
read as a web request would, until a stop file appears. It runs in a separate process
so the Python work of the ALTER (validation, metadata) cannot delay its reads through
the GIL; only the database can.

    python bench_reader.py <bench> <site> <stop file> <result file>

Prints "ready" once connected and warmed; writes [[start, seconds], ...] (time.monotonic,
which is system-wide on Linux, so the parent can line the reads up with its ALTER).
"""
import json
import os
import sys
import time

LIST_SQL = ("SELECT `name`, `lead_name`, `status`, `email`, `modified` FROM `tabBench Lead` "
            "WHERE `status`=%s ORDER BY `modified` DESC LIMIT 20")
STATUSES = ("Open", "Contacted", "Qualified", "Converted", "Unqualified")


def main(bench, site, stop_file, result_file, pause=0.002, max_seconds=600):
    from lowcode import database
    from lowcode.sites import get_site_config, site_path
    db = database.connect(get_site_config(site, bench), site_path(site, bench))
    reads = []
    for s in STATUSES:  # warm the statement cache and the pages
        db.begin(write=False)
        db.sql(LIST_SQL, (s,))
        db.commit()
    print("ready", flush=True)
    deadline = time.monotonic() + max_seconds
    i = 0
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        t0 = time.monotonic()
        db.begin(write=False)
        rows = db.sql(LIST_SQL, (STATUSES[i % len(STATUSES)],))
        db.commit()
        reads.append([t0, time.monotonic() - t0, len(rows)])
        i += 1
        time.sleep(pause)
    db.close()
    with open(result_file, "w") as f:
        json.dump(reads, f)


if __name__ == "__main__":
    main(*sys.argv[1:5])
