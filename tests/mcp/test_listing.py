"""`magnet pool --pool mcp`: the reference servers' tools listed through the mcp client, bad entries reported."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.pools import load_pool

GIT = {"git_status", "git_diff_unstaged", "git_diff_staged", "git_diff", "git_commit", "git_add", "git_reset", "git_log",
       "git_create_branch", "git_checkout", "git_show", "git_branch"}
FILESYSTEM = {"read_file", "read_text_file", "read_media_file", "read_multiple_files", "write_file", "edit_file",
              "create_directory", "list_directory", "list_directory_with_sizes", "directory_tree", "move_file",
              "search_files", "get_file_info", "list_allowed_directories"}
MEMORY = {"create_entities", "create_relations", "add_observations", "delete_entities", "delete_observations",
          "delete_relations", "read_graph", "search_nodes", "open_nodes"}


def test_magnet_pool_lists_the_time_server_tools():
    result = CliRunner().invoke(app, ["pool", "--pool", "mcp", "--source", "mcp-server-time"])
    assert result.exit_code == 0, result.output
    assert "pool mcp-time (mcp): 2 functions [executable backends]" in result.output
    assert "get_current_time, convert_time" in result.output


def test_magnet_pool_lists_git_filesystem_and_memory_per_server(reference_source):
    result = CliRunner().invoke(app, ["pool", "--pool", "mcp", "--source", reference_source, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["classes"] == {"mcp-git": 12, "secure-filesystem-server": 14, "memory-server": 9}
    assert set(summary["tools"]["mcp-git"]) == GIT
    assert set(summary["tools"]["secure-filesystem-server"]) == FILESYSTEM
    assert set(summary["tools"]["memory-server"]) == MEMORY
    assert summary["issues"] == []


def test_specs_carry_schemas_classes_and_output_schemas(reference_pool, fault_pool):
    status = reference_pool.spec("mcp-git.git_status")
    assert status.parameters["required"] == ["repo_path"] and status.category == "mcp-git"
    assert status.source_pool == "mcp:mcp-git" and status.executable
    assert fault_pool.spec("magnet-faults.echo").category == "text"  # a server-declared category (tool _meta)
    add = fault_pool.spec("magnet-faults.add")
    assert add.response == {"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]}


def test_hostile_schemas_and_duplicate_names_are_reported_per_entry_and_strict_fails(fault_source):
    source = fault_source + " --hostile-schemas"
    pool = load_pool("mcp", source)
    reasons = {issue.name: issue.reason for issue in pool.issues}
    assert "recursive $ref cycle" in reasons["cyclic"]
    assert "unknown type 'banana'" in reasons["bad_type"]
    assert "duplicate name" in reasons["magnet-faults.echo"]
    assert {"echo", "add", "crash", "hang", "huge"} <= {spec.name for spec in pool.specs}
    strict = CliRunner().invoke(app, ["pool", "--pool", "mcp", "--source", source, "--strict"])
    assert strict.exit_code == 2 and "3 bad entries" in strict.output


def test_a_server_that_cannot_start_is_reported_and_the_others_still_load(fault_source):
    pool = load_pool("mcp", f"no-such-mcp-server --flag; {fault_source}; python -c 'import sys; sys.exit(4)'")
    assert {spec.tool_class for spec in pool.specs} == {"magnet-faults"}
    reasons = [str(issue) for issue in pool.issues]
    assert any("server[0]" in r and "not found" in r for r in reasons)
    assert any("server[2]" in r and "cannot start MCP server" in r for r in reasons)


def test_two_servers_with_one_tool_name_keep_the_first(fault_source):
    pool = load_pool("mcp", f"{fault_source}; {fault_source}")
    assert sorted(pool.classes()) == ["magnet-faults"]
    assert all("duplicate name (server magnet-faults already has" in issue.reason for issue in pool.issues)
    assert len(pool.issues) == len(pool.specs)


def test_a_server_that_never_answers_the_handshake_is_reported_and_stopped(fault_source, procs):
    import os

    from magnet_core.execution.mcp_session import McpLimits
    from magnet_core.pools.mcp import load_mcp_pool

    pool = load_mcp_pool(f"{fault_source}; python -c 'import time; time.sleep(600)'", limits=McpLimits(start_timeout_s=1.0))
    assert len(pool.issues) == 1 and pool.issues[0].location.startswith("server[1]")
    assert "did not complete the MCP handshake within 1.0s" in pool.issues[0].reason
    assert {spec.tool_class for spec in pool.specs} == {"magnet-faults"}
    assert procs.wait_until_gone(procs.reapers_of(os.getpid())) == []
