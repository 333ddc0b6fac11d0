"""Per-scenario working state for MCP servers: what a server needs on disk, generated, recorded, rebuilt.

A server's state lives in a directory of its own inside the scenario's temporary root: a git repository
(`mcp-server-git`), a directory tree (`mcp-server-filesystem`), a knowledge-graph file
(`mcp-server-memory`), or any directory a command line asks for with `{workdir}`. The state is a small
seeded JSON description (stored as the scenario's `initial_state[tool_class]`) and `materialize` rebuilds
it byte for byte, git commits included (fixed author and dates), so a trajectory replays in fresh
servers. Tools see stable virtual paths (`/workspace/<class>`), never the temporary directory: paths in
arguments are mapped in, paths in outputs mapped back, so stored calls and outputs do not depend on
where a run happened to put its files.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

VIRTUAL_ROOT = "/workspace"
# profile -> does the server keep its state on disk only (so probes can snapshot and restore it)
PROFILES = {"git": True, "filesystem": True, "memory": True, "workdir": True, "stateless": True}
KNOWN_COMMANDS = {"mcp-server-git": "git", "mcp-server-filesystem": "filesystem", "mcp-server-memory": "memory",
                  "mcp-server-time": "stateless"}
NONDETERMINISTIC = {"mcp-server-time"}  # clocks: outputs are recorded, never expected to replay equal
GIT_ENV = {"GIT_AUTHOR_NAME": "Magnet Factory", "GIT_AUTHOR_EMAIL": "factory@example.com",
           "GIT_COMMITTER_NAME": "Magnet Factory", "GIT_COMMITTER_EMAIL": "factory@example.com",
           "GIT_AUTHOR_DATE": "1767603600 +0000", "GIT_COMMITTER_DATE": "1767603600 +0000",  # git and GitPython both read this
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0"}
MEMORY_FILE = "memory.jsonl"

_TEXTS = {
    "README.md": "# Inventory service\nTracks stock levels per warehouse.\n",
    "notes.txt": "Meeting notes\n- review the budget\n- assign owners\n",
    "todo.txt": "write the report\ncall the supplier\nbook the venue\n",
    "config.yaml": "service: inventory\nport: 8080\nlog_level: info\n",
    "report.csv": "month,revenue\nJan,1200\nFeb,1350\nMar,1500\n",
    "main.py": "def main():\n    print('inventory up')\n\n\nif __name__ == '__main__':\n    main()\n",
    "CHANGELOG.md": "## 0.1.0\n- first release\n",
}
_FOLDERS = ["docs", "src", "reports", "archive", "drafts"]
_PEOPLE = ["Ada_Lovelace", "Alan_Turing", "Grace_Hopper", "Katherine_Johnson", "Edsger_Dijkstra"]
_ORGS = ["Analytical_Engines_Ltd", "Bletchley_Park", "Harvard_Lab"]
_FACTS = ["prefers morning meetings", "works on compilers", "speaks French", "likes chess", "mentors new hires"]


def workdir_name(tool_class: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in tool_class) or "server"


def virtual_dir(tool_class: str) -> str:
    return f"{VIRTUAL_ROOT}/{workdir_name(tool_class)}"


def generate_state(profile: str | None, seed: int) -> dict[str, Any]:
    """A small seeded world for one server; JSON, stored with the scenario."""
    rng = random.Random(f"mcp:{profile}:{seed}")
    if profile == "git":
        names = rng.sample(sorted(_TEXTS), 4)
        return {"kind": "git", "files": {name: _TEXTS[name] for name in names[:3]},
                "branches": ["main", rng.choice(["feature-login", "fix-typo", "release-1.1"])],
                "unstaged": {names[0]: _TEXTS[names[0]] + "updated line\n"}, "untracked": {names[3]: _TEXTS[names[3]]}}
    if profile == "filesystem":
        folders = rng.sample(_FOLDERS, 2)
        files = {f"{folder}/{name}": _TEXTS[name] for folder in folders for name in rng.sample(sorted(_TEXTS), 2)}
        files.update({name: _TEXTS[name] for name in rng.sample(sorted(_TEXTS), 2)})
        return {"kind": "filesystem", "files": dict(sorted(files.items()))}
    if profile == "memory":
        people = rng.sample(_PEOPLE, 3)
        org = rng.choice(_ORGS)
        entities = [{"name": p, "entityType": "person", "observations": rng.sample(_FACTS, 2)} for p in people]
        entities.append({"name": org, "entityType": "organization", "observations": ["founded long ago"]})
        relations = [{"from": p, "to": org, "relationType": "works_at"} for p in people[:2]]
        return {"kind": "memory", "entities": entities, "relations": relations}
    if profile == "workdir":
        return {"kind": "workdir", "files": {}}
    return {}


def materialize(state: dict[str, Any], directory: Path) -> None:
    """Build `state` in an empty `directory` (git repositories get reproducible commits)."""
    directory.mkdir(parents=True, exist_ok=True)
    kind = state.get("kind")
    if kind in ("filesystem", "workdir"):
        _write_files(directory, state.get("files", {}))
    elif kind == "memory":
        lines = [json.dumps({"type": "entity", **entity}) for entity in state.get("entities", [])]
        lines += [json.dumps({"type": "relation", **relation}) for relation in state.get("relations", [])]
        (directory / MEMORY_FILE).write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    elif kind == "git":
        branches = state.get("branches") or ["main"]
        _git(directory, "init", "-q", "-b", branches[0])
        _write_files(directory, state.get("files", {}))
        _git(directory, "add", "-A")
        _git(directory, "commit", "-q", "--allow-empty", "-m", "Initial commit")
        for branch in branches[1:]:
            _git(directory, "branch", branch)
        _write_files(directory, state.get("unstaged", {}))
        _write_files(directory, state.get("untracked", {}))


def server_view(state: dict[str, Any], tool_class: str) -> dict[str, Any]:
    """What a careful user could see of the initial state, under the virtual paths: values for the
    offline call writer (repository path, file paths, branch and entity names)."""
    root = virtual_dir(tool_class)
    kind = state.get("kind")
    if kind == "git":
        files = sorted({*state.get("files", {}), *state.get("unstaged", {}), *state.get("untracked", {})})
        return {"repo_path": root, "branch_name": list(state.get("branches", [])), "files": files,
                "revision": ["HEAD", *state.get("branches", [])[:1]]}
    if kind == "filesystem":
        files = sorted(state.get("files", {}))
        folders = sorted({name.rsplit("/", 1)[0] for name in files if "/" in name})
        return {"path": [f"{root}/{name}" for name in files], "directory": [root, *(f"{root}/{d}" for d in folders)]}
    if kind == "memory":
        names = [entity["name"] for entity in state.get("entities", [])]
        return {"entityName": names, "names": names, "query": [n.split("_")[0] for n in names],
                "entityType": sorted({e["entityType"] for e in state.get("entities", [])}),
                "relationType": sorted({r["relationType"] for r in state.get("relations", [])})}
    if kind == "workdir":
        return {"path": [root]}
    return {}


class PathMap:
    """Virtual `/workspace` <-> the scenario's real temporary root, applied to every string."""

    def __init__(self, real_root: Path):
        self.real = str(real_root)

    def inward(self, value: Any) -> Any:
        return _replace(value, VIRTUAL_ROOT, self.real)

    def outward(self, value: Any) -> Any:
        return _replace(value, self.real, VIRTUAL_ROOT)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new) if old in value else value
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    if isinstance(value, dict):
        return {_replace(key, old, new): _replace(item, old, new) for key, item in value.items()}
    return value


def _write_files(directory: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        target = (directory / name).resolve()
        if not target.is_relative_to(directory.resolve()):
            raise ValueError(f"state file {name!r} escapes its working directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def _git(directory: Path, *args: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory), **GIT_ENV}
    subprocess.run(["git", *args], cwd=directory, env=env, check=True, capture_output=True, timeout=30)
