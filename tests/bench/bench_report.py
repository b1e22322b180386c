"""Presenting the figures: one table per engine (figure, value, target, vs raw, result)
and the JSON file in bench-results/."""
import json
import os


class Figure:
    """One reported number. ``raw`` is the raw-SQL figure it is compared with (same
    unit); ``ok`` is True/False against a target, or None for information only."""

    def __init__(self, label, value, unit, raw=None, target=None, ok=None, detail=None):
        self.label, self.value, self.unit = label, value, unit
        self.raw, self.target, self.ok, self.detail = raw, target, ok, detail

    def ratio(self):
        if self.raw in (None, 0) or self.value is None:
            return None
        return self.value / self.raw

    def as_dict(self):
        return {"figure": self.label, "value": self.value, "unit": self.unit, "raw": self.raw,
                "ratio_vs_raw": self.ratio(), "target": self.target,
                "result": None if self.ok is None else ("PASS" if self.ok else "MISS"), "detail": self.detail}


def _num(value, unit):
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.2f} ms"
    return f"{value:,.0f} {unit}"


def print_table(run):
    rows = [("Figure", "Value", "Target", "vs raw", "Result", "Notes")]
    for f in run["figures"]:
        ratio = f["ratio_vs_raw"]
        vs = "-" if ratio is None else f"{ratio:.2f}x raw ({_num(f['raw'], f['unit'])})"
        rows.append((f["figure"], _num(f["value"], f["unit"]), f["target"] or "-", vs,
                     f["result"] or "info", f["detail"] or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    loads = [x["load1"] for x in run.get("loadavg") or []]
    size = f"{run['rows']:,} rows, " if run.get("rows") else ""
    title = (f"{run['engine']} ({run.get('server_version', '')}), {size}"
             f"site {run.get('site', '')}" + (f"; load average {min(loads):.1f}-{max(loads):.1f} "
                                              f"on {os.cpu_count()} CPUs while timing" if loads else ""))
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print()
    print(title)
    print(line)
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) if j != 1 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
              + " |")
        if i == 0:
            print(line)
    print(line)
    misses = [f["figure"].strip() for f in run["figures"] if f["result"] == "MISS"]
    passes = sum(1 for f in run["figures"] if f["result"] == "PASS")
    print(f"{passes} PASS, {len(misses)} MISS" + (f": {', '.join(misses)}" if misses else ""))
    if run.get("list", {}).get("mismatches"):
        print(f"WARNING: list pages differ between raw/get_list/REST: {run['list']['mismatches']}")
    print(flush=True)


def write_json(results, out_dir, started):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, started.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")
    return path
