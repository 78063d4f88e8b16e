"""Peak memory of `partnerscope import jira` on one large export file, and on a file it must refuse.

Exports grow with the history they hold; the import has to stay flat however large one file
is. Two cases, each measured in a process of its own (`bench.run.measure`):

- `import_large_export`: one Jira search response (`{"issues": [...]}`) of about `--export-mb`
  megabytes, the demo scenario's issues written one by one so the generator itself stays small;
- `import_array_of_zeros`: a JSON array of zeros of the same size, which is no export at all and
  has to be refused at once, not read whole first;
- `import_github_export`: the GitHub scenario's REST listings over ten files (issues, issue
  events as JSON Lines, comments, pulls, reviews), about 200 MB for 3,500 tickets; the
  import groups them by ticket across files, so it holds the slim fields of every item.

Run alone with `python -m bench.run --cases exports`. The files are written by a process of
their own (`python -m bench.import_memory KIND PATH SIZE`): Linux carries a parent's peak RSS
into the `ru_maxrss` of a child it starts, so a harness that had held the GitHub scenario
would inflate the figure it measures.
"""
from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
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


def case_exports(measure: Callable[..., dict[str, Any]], partnerscope: list[str], configs: tuple[Path, Path, Path],
                 workdir: Path, megabytes: int, github_tickets: int, root: Path, results: dict[str, Any]) -> None:
    """The three cases, each on an empty database of its own; the refusal exits 1 by design."""
    config, empty, github = configs
    export = workdir / "large-export.json"
    issues = _written("jira", export, megabytes, root)
    log = workdir / "import-large.log"
    run = measure(partnerscope + ["--config", str(config), "import", "jira", str(export), "--source", "bench-export"],
                  cwd=root, log=log)
    run.update(tickets=issues, requests=0, file_mb=round(export.stat().st_size / MB, 1),
               output=log.read_text().strip().splitlines()[-1])
    results["import_large_export"] = run
    export.unlink()

    zeros = workdir / "zeros.json"
    _written("zeros", zeros, megabytes, root)
    log = workdir / "import-zeros.log"
    run = measure(partnerscope + ["--config", str(empty), "import", "jira", str(zeros), "--source", "bench-zeros"],
                  cwd=root, log=log, expect=(1,))
    run.update(tickets=0, requests=0, file_mb=round(zeros.stat().st_size / MB, 1),
               output=" / ".join(log.read_text().strip().splitlines()[-2:]))
    results["import_array_of_zeros"] = run
    zeros.unlink()

    files = [Path(name) for name in _written("github", workdir / "github-export", github_tickets, root)]
    log = workdir / "import-github.log"
    run = measure(partnerscope + ["--config", str(github), "import", "github", *map(str, files), "--source",
                                  "bench-github-export"], cwd=root, log=log)
    run.update(tickets=github_tickets, requests=0, file_mb=round(sum(f.stat().st_size for f in files) / MB, 1),
               output=log.read_text().strip().splitlines()[-1])
    results["import_github_export"] = run
    for path in files:
        path.unlink()


def write_github_export(folder: Path, tickets: int) -> list[Path]:
    """The GitHub scenario's REST listings as export files: per repository its issues (pages),
    issue events (JSON Lines, each embedding its issue), comments, pulls and reviews."""
    from simulator.github_scenario import generate
    from simulator.github_store import GitHubStore

    store = GitHubStore(generate(tickets), "https://github.example")
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index in store.repos.values():
        name = index.data.repo.full_name.replace("/", "-")
        listings = {
            "issues.json": [store.issue(index, t) for t in index.data.tickets],
            "events.jsonl": [store.repo_event(index, t["number"], i) for t in index.data.tickets
                             for i in range(len(t["events"]))],
            "comments.json": [c for t in index.data.tickets for c in store.pieces(index, t, "comments")],
            "pulls.json": [store.pull(index, t, listed=True) for t in index.data.tickets if t.get("pull")],
            "reviews.json": [b"[" + b",".join(store.pieces(index, t, "reviews")) + b"]"
                             for t in index.data.tickets if t.get("pull")],
        }
        for suffix, items in listings.items():
            path = folder / f"{name}-{suffix}"
            with path.open("wb") as out:
                if suffix.endswith(".jsonl"):
                    out.write(b"\n".join(items))
                else:
                    out.write(b"[" + b",".join(items) + b"]")
            files.append(path)
        store._cache.clear()  # the harness keeps nothing it has written
    return files


def _written(kind: str, path: Path, size: int, root: Path) -> Any:
    """Write one export in a child process; what its writer returned."""
    done = subprocess.run([sys.executable, "-m", "bench.import_memory", kind, str(path), str(size)], cwd=root,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


if __name__ == "__main__":
    kind, target, amount = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    if kind == "jira":
        print(json.dumps(write_large_export(target, amount)))
    elif kind == "zeros":
        write_zeros(target, amount)
        print("null")
    else:
        print(json.dumps([str(path) for path in write_github_export(target, amount)]))
