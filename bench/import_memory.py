"""Peak memory of `partnerscope import jira` on one large export file, and on a file it must refuse.

Exports grow with the history they hold; the import has to stay flat however large one file
is. Two cases, each measured in a process of its own (`bench.run.measure`):

- `import_large_export`: one Jira search response (`{"issues": [...]}`) of about `--export-mb`
  megabytes, the demo scenario's issues written one by one so the generator itself stays small;
- `import_array_of_zeros`: a JSON array of zeros of the same size, which is no export at all and
  has to be refused at once, not read whole first.

Run alone with `python -m bench.run --cases exports`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from simulator.scenario import iter_issues

MB = 1024 * 1024


def write_large_export(path: Path, megabytes: int, seed: int = 11) -> int:
    """Write a search response of about `megabytes` MB; returns how many issues it holds."""
    target = megabytes * MB
    written, count = 0, 0
    with path.open("wb") as out:
        out.write(b'{"startAt":0,"maxResults":100000,"issues":[')
        # Ask for more issues than fit; stop once the file is large enough.
        for issue in iter_issues(target // 4000, seed=seed):
            chunk = json.dumps(issue, ensure_ascii=False, separators=(",", ":")).encode()
            out.write((b"," if count else b"") + chunk)
            written += len(chunk) + 1
            count += 1
            if written >= target:
                break
        out.write(b'],"isLast":true}')
    return count


def write_zeros(path: Path, megabytes: int) -> None:
    """A JSON array of zeros of about `megabytes` MB."""
    block = b"0," * (MB // 2)
    with path.open("wb") as out:
        out.write(b"[")
        for _ in range(megabytes):
            out.write(block)
        out.write(b"0]")


def case_exports(measure: Callable[..., dict[str, Any]], partnerscope: list[str], configs: tuple[Path, Path],
                 workdir: Path, megabytes: int, root: Path, results: dict[str, Any]) -> None:
    """Both cases, each on an empty database of its own; the refusal exits 1 by design."""
    config, empty = configs
    export = workdir / "large-export.json"
    issues = write_large_export(export, megabytes)
    log = workdir / "import-large.log"
    run = measure(partnerscope + ["--config", str(config), "import", "jira", str(export), "--source", "bench-export"],
                  cwd=root, log=log)
    run.update(tickets=issues, requests=0, file_mb=round(export.stat().st_size / MB, 1),
               output=log.read_text().strip().splitlines()[-1])
    results["import_large_export"] = run
    export.unlink()

    zeros = workdir / "zeros.json"
    write_zeros(zeros, megabytes)
    log = workdir / "import-zeros.log"
    run = measure(partnerscope + ["--config", str(empty), "import", "jira", str(zeros), "--source", "bench-zeros"],
                  cwd=root, log=log, expect=(1,))
    run.update(tickets=0, requests=0, file_mb=round(zeros.stat().st_size / MB, 1),
               output=" / ".join(log.read_text().strip().splitlines()[-2:]))
    results["import_array_of_zeros"] = run
    zeros.unlink()
